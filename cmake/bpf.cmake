# SPDX-License-Identifier: Apache-2.0
# Builds bpf/<name>.bpf.c with clang -target bpf and generates <name>.skel.h with bpftool.
find_program(WEFT_CLANG NAMES clang-14 clang REQUIRED)
find_program(WEFT_BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)

set(WEFT_GEN_DIR ${CMAKE_BINARY_DIR}/gen)
file(MAKE_DIRECTORY ${WEFT_GEN_DIR})

execute_process(COMMAND uname -m OUTPUT_VARIABLE WEFT_ARCH OUTPUT_STRIP_TRAILING_WHITESPACE)
set(WEFT_ARCH_INCLUDE /usr/include/${WEFT_ARCH}-linux-gnu)

function(weft_bpf_object name)
  set(src ${CMAKE_SOURCE_DIR}/bpf/${name}.bpf.c)
  set(obj ${WEFT_GEN_DIR}/${name}.bpf.o)
  set(skel ${WEFT_GEN_DIR}/${name}.skel.h)
  file(GLOB bpf_headers CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/bpf/lib/*.h
       ${CMAKE_SOURCE_DIR}/maps/*.h)
  # -mcpu=v3 for atomic fetch-and-add (kernel 5.12+) used by round robin.
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${WEFT_CLANG} -O2 -g -target bpf -mcpu=v3 -Wall -Werror
            -I${CMAKE_SOURCE_DIR} -I${WEFT_ARCH_INCLUDE} -c ${src} -o ${obj}
    DEPENDS ${src} ${bpf_headers}
    COMMENT "BPF ${name}.bpf.c")
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${WEFT_BPFTOOL} gen skeleton ${obj} name ${name} > ${skel}
    DEPENDS ${obj}
    COMMENT "skeleton ${name}.skel.h")
  add_custom_target(weft_bpf_${name} ALL DEPENDS ${obj} ${skel})
endfunction()
