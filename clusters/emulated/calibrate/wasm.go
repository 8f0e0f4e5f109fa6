package calibrate

// fibWasm is the sample's fib as a plain WebAssembly module: one exported
// function, the naive recursion with native wasm calls on i32 (TinyGo's int
// on wasm32 is 32 bits). It is the code shape an LLVM-based compiler such as
// TinyGo emits for the handler's fib, without the Go runtime around it and
// without whatever LLVM's optimiser might add (-opt=z; TinyGo's output for
// the sample could not be built here: no TinyGo toolchain). Hand-assembled
// from this text form; TestFibWasm checks it against the native fib:
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
