# Builds the seed corpora of the fuzz targets from RISC-V ELF executables (run with cmake -P):
#   OBJCOPY  riscv64-linux-gnu-objcopy
#   ELFS     ;-separated list of ELF files linked at 0x80000000 (missing ones are skipped)
#   OUT      corpus root: OUT/elf gets the ELFs, OUT/hart their flat memory images,
#            OUT/decode their .text sections
foreach(dir elf hart decode)
  file(REMOVE_RECURSE ${OUT}/${dir})
  file(MAKE_DIRECTORY ${OUT}/${dir})
endforeach()
set(count 0)
foreach(elf ${ELFS})
  if(NOT EXISTS ${elf})
    message(STATUS "fuzz corpus: ${elf} not built, skipped")
    continue()
  endif()
  get_filename_component(name ${elf} NAME_WE)
  get_filename_component(parent ${elf} DIRECTORY)
  get_filename_component(parent ${parent} NAME)
  set(name ${parent}-${name})
  file(COPY_FILE ${elf} ${OUT}/elf/${name}.elf)
  execute_process(COMMAND ${OBJCOPY} -O binary ${elf} ${OUT}/hart/${name}.bin
                  RESULT_VARIABLE rc1)
  execute_process(COMMAND ${OBJCOPY} -O binary -j .text ${elf} ${OUT}/decode/${name}.bin
                  RESULT_VARIABLE rc2)
  if(rc1 OR rc2)
    message(FATAL_ERROR "fuzz corpus: ${OBJCOPY} failed on ${elf}")
  endif()
  math(EXPR count "${count} + 1")
endforeach()
file(WRITE ${OUT}/elf/empty "")
message(STATUS "fuzz corpus: ${count} ELF files")
