// Eigen includes <mmintrin.h> (MMX) before its SSE headers. WebAssembly has no MMX and Eigen uses
// none of it; Emscripten ships no such header, so the playground build finds this empty one.
#pragma once
