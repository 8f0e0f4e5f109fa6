// The cpu-load-gen sample's fib (spin-operator apps/cpu-load-gen/main.go),
// transliterated to C so that LLVM — TinyGo's backend — compiles it without
// TinyGo: TinyGo's int is 32 bits on wasm32, Go's `if n < 2 { return n }`
// and `return fib(n-2) + fib(n-1)` are unchanged. Built by go generate
// (gen.go) into fib-llvm-oz.wasm at -Oz, TinyGo's default optimisation level.
__attribute__((export_name("fib")))
int fib(int n) {
	if (n < 2) {
		return n;
	}
	return fib(n - 2) + fib(n - 1);
}
