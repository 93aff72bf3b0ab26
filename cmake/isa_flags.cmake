# Compile flags per instruction-set level, chosen by file name:
#   *_avx2.cpp        -mavx2 -mfma
#   *_avx512.cpp      AVX-512 F/BW/DQ/VL + FMA
#   *_avx512bf16.cpp  the above + AVX512_BF16
# A register-block suffix may follow the level, as in the GEMM micro-kernels
# (gemm_ukernel_avx2_6x16.cpp, gemm_ukernel_avx512_14x32.cpp).
# Every other file is built for baseline x86-64.
function(graft_set_isa_flags sources_var)
  foreach(src IN LISTS ${sources_var})
    if(src MATCHES "_avx512bf16(_[0-9]+x[0-9]+)?\\.cpp$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS
        "-mavx512f;-mavx512bw;-mavx512dq;-mavx512vl;-mfma;-mavx2;-mavx512bf16")
    elseif(src MATCHES "_avx512(_[0-9]+x[0-9]+)?\\.cpp$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS
        "-mavx512f;-mavx512bw;-mavx512dq;-mavx512vl;-mfma;-mavx2")
    elseif(src MATCHES "_avx2(_[0-9]+x[0-9]+)?\\.cpp$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma")
    endif()
  endforeach()
endfunction()
