# ctest driver (cmake -P): the C++ block in README.md that follows the marker
#   <!-- snippet: tests/install/consumer/main.cpp -->
# must equal that file, which the install test compiles and runs.
#   -DREADME=path/to/README.md  -DSNIPPET=path/to/main.cpp  -DMARKER=tests/install/consumer/main.cpp
file(READ ${README} readme)
file(READ ${SNIPPET} expected)
set(marker "<!-- snippet: ${MARKER} -->")
string(FIND "${readme}" "${marker}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "README check: no '${marker}' in ${README}")
endif()
string(SUBSTRING "${readme}" ${at} -1 rest)
string(FIND "${rest}" "```cpp\n" open)
if(open EQUAL -1)
  message(FATAL_ERROR "README check: no ```cpp block after '${marker}'")
endif()
math(EXPR open "${open} + 7")
string(SUBSTRING "${rest}" ${open} -1 rest)
string(FIND "${rest}" "```" close)
if(close EQUAL -1)
  message(FATAL_ERROR "README check: the ```cpp block after '${marker}' is not closed")
endif()
string(SUBSTRING "${rest}" 0 ${close} block)
if(NOT block STREQUAL expected)
  file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/readme_block.cpp "${block}")
  message(FATAL_ERROR "README check: the README block differs from ${SNIPPET}; "
    "the README's version is in ${CMAKE_CURRENT_BINARY_DIR}/readme_block.cpp (diff them, then "
    "copy one over the other)")
endif()
message(STATUS "README check: the README example is ${SNIPPET}, byte for byte")
