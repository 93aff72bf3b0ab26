# ctest driver (cmake -P): install the build tree into a fresh prefix, then
# configure, build and run tests/install/consumer against that prefix only.
#   -DBUILD_DIR=  Graft's build tree      -DWORK_DIR=   scratch folder (wiped)
#   -DCONSUMER_DIR= the consumer project  -DGENERATOR= -DMAKE_PROGRAM=
#   -DCXX_COMPILER= -DBUILD_TYPE=         -DCUDA_ROOT=  (only for CUDA builds)
foreach(var BUILD_DIR WORK_DIR CONSUMER_DIR GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "install_test.cmake: -D${var}= is required")
  endif()
endforeach()

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install test: ${what} failed (${rc}): ${ARGN}")
  endif()
endfunction()

set(prefix ${WORK_DIR}/prefix)
set(consumer_build ${WORK_DIR}/consumer-build)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

run_step("cmake --install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

foreach(f include/graft/graft.h include/graft/core/tensor.h include/graft/kernels/cuda/runtime.h)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "install test: ${f} was not installed under ${prefix}")
  endif()
endforeach()
file(GLOB_RECURSE config_files ${prefix}/*/graftConfig.cmake)
file(GLOB_RECURSE libs ${prefix}/*/libgraft.a ${prefix}/*/libgraft.so)
if(NOT config_files OR NOT libs)
  message(FATAL_ERROR "install test: graftConfig.cmake or libgraft missing under ${prefix}")
endif()

set(configure ${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${consumer_build} -G ${GENERATOR}
  -DCMAKE_PREFIX_PATH=${prefix}
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
  -DCMAKE_CXX_COMPILER=${CXX_COMPILER})
if(MAKE_PROGRAM)
  list(APPEND configure -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM})
endif()
if(BUILD_TYPE)
  list(APPEND configure -DCMAKE_BUILD_TYPE=${BUILD_TYPE})
endif()
if(CUDA_ROOT)
  list(APPEND configure -DCUDAToolkit_ROOT=${CUDA_ROOT})
endif()
run_step("configuring the consumer" ${configure})

# The package must come from the fresh prefix, not from the build tree.
file(STRINGS ${consumer_build}/CMakeCache.txt graft_dir REGEX "^graft_DIR:")
string(FIND "${graft_dir}" "${prefix}/" at)
if(NOT at GREATER -1)
  message(FATAL_ERROR "install test: find_package(graft) found ${graft_dir}, not the install in ${prefix}")
endif()

run_step("building the consumer" ${CMAKE_COMMAND} --build ${consumer_build})
run_step("running the consumer" ${consumer_build}/app)
message(STATUS "install test: installed, found, built and ran against ${prefix}")
