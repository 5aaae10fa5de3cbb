# Per-target include paths, so that a module can include only what it links.
#
# Every include is written from the top of the tree ("storage/db.h"), but no
# target sees the whole tree. Each target gets small include roots under
# ${CMAKE_BINARY_DIR}/include_roots made of symbolic links:
#   - tsvault_module_headers(T FOLDER PUBLIC h...) links only the listed
#     public headers of FOLDER into T's public root; targets linking T see
#     them (through CMake's usual PUBLIC propagation), nothing else.
#   - tsvault_private_folder(T FOLDER) links the whole FOLDER into a private
#     root of T: T's own sources (and its own tests and benchmarks, which
#     call it too) see every header of the module.
# Including another module's internal header therefore fails to compile.

set(TSVAULT_INCLUDE_ROOTS ${CMAKE_BINARY_DIR}/include_roots)

# Exposes the listed headers of FOLDER (relative to the source root) as the
# public headers of TARGET.
function(tsvault_module_headers target folder)
  set(root ${TSVAULT_INCLUDE_ROOTS}/${target}.public)
  file(REMOVE_RECURSE ${root})
  file(MAKE_DIRECTORY ${root}/${folder})
  foreach(header ${ARGN})
    if(NOT EXISTS ${CMAKE_SOURCE_DIR}/${folder}/${header})
      message(FATAL_ERROR "${target}: public header ${folder}/${header} does not exist")
    endif()
    file(CREATE_LINK ${CMAKE_SOURCE_DIR}/${folder}/${header} ${root}/${folder}/${header} SYMBOLIC)
  endforeach()
  target_include_directories(${target} PUBLIC ${root})
endfunction()

# Makes every header of FOLDER visible to TARGET (privately).
function(tsvault_private_folder target folder)
  string(REPLACE "/" "." key ${folder})
  set(root ${TSVAULT_INCLUDE_ROOTS}/${target}.private.${key})
  file(REMOVE_RECURSE ${root})
  get_filename_component(parent ${root}/${folder} DIRECTORY)
  file(MAKE_DIRECTORY ${parent})
  file(CREATE_LINK ${CMAKE_SOURCE_DIR}/${folder} ${root}/${folder} SYMBOLIC)
  target_include_directories(${target} PRIVATE ${root})
endfunction()

# A static library of the .cc files of the current folder, which sees its
# own folder; public headers are declared with tsvault_module_headers.
function(tsvault_module_library target folder)
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/${folder}/*.cc)
  add_library(${target} STATIC ${sources})
  tsvault_private_folder(${target} ${folder})
endfunction()
