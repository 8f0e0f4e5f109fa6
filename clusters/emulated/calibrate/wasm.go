package calibrate

import _ "embed"

// fibLLVM is the guest the figure comes from: guest/fib.c, the sample's fib
// transliterated to C, compiled by clang/LLVM for wasm32 at -Oz (gen.go).
//
//go:embed guest/fib-llvm-oz.wasm
var fibLLVM []byte

// Guest descriptions.
const (
	llvmGuest = "the sample's fib (as C: int32, the same recursion) compiled by LLVM for wasm32 at -Oz — TinyGo's backend and its " +
		"default optimisation level — which, as in TinyGo's output, turns the second recursive call into a loop; checked in, " +
		"built by go generate with clang 14 (no TinyGo toolchain here)"
	naiveGuest = "the naive recursion as one plain wasm function (i32, two calls per level), hand-assembled, no optimiser"
	goGuest    = "Go's own wasip1 build of the sample's Go source (GOOS=wasip1 GOARCH=wasm, -buildmode=c-shared, go:wasmexport): " +
		"Go's wasm ABI keeps its own stack in linear memory and makes every call resumable, which TinyGo's output does not"
)

// fibWasm is the sample's fib as a plain WebAssembly module: one exported
// function, the naive recursion with native wasm calls on i32 (TinyGo's int
// on wasm32 is 32 bits), without any optimiser's rewriting. Hand-assembled
// from this text form; TestWasmGuestsMatchNative checks it against the
// native fib:
//
//	(module
//	  (func $fib (export "fib") (param $n i32) (result i32)
//	    (if (i32.lt_s (local.get $n) (i32.const 2))
//	      (then (return (local.get $n))))
//	    (i32.add
//	      (call $fib (i32.sub (local.get $n) (i32.const 2)))
//	      (call $fib (i32.sub (local.get $n) (i32.const 1))))))
var fibWasm = []byte{
	0x00, 0x61, 0x73, 0x6d, // magic "\0asm"
	0x01, 0x00, 0x00, 0x00, // version 1
	// type section: one type, func (i32) -> (i32)
	0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f,
	// function section: one function of type 0
	0x03, 0x02, 0x01, 0x00,
	// export section: "fib" = function 0
	0x07, 0x07, 0x01, 0x03, 'f', 'i', 'b', 0x00, 0x00,
	// code section: one body of 28 bytes, no locals
	0x0a, 0x1e, 0x01, 0x1c, 0x00,
	0x20, 0x00, 0x41, 0x02, 0x48, // local.get 0; i32.const 2; i32.lt_s
	0x04, 0x40, 0x20, 0x00, 0x0f, 0x0b, // if; local.get 0; return; end
	0x20, 0x00, 0x41, 0x02, 0x6b, 0x10, 0x00, // call fib(n-2)
	0x20, 0x00, 0x41, 0x01, 0x6b, 0x10, 0x00, // call fib(n-1)
	0x6a, 0x0b, // i32.add; end
}
