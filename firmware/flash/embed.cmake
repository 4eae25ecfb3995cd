# Turns one file into a C array, for the scripts voxcart-flash writes onto a
# card (flash_files.h declares them):
#   cmake -DSYM=name -DIN=file -DOUT=file.c -P embed.cmake
# defines `const unsigned char name[]` (the bytes and a final NUL) and
# `const size_t name_len` (without the NUL).
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" digits)
math(EXPR len "${digits} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){16})" "\\1\n    " bytes "${bytes}")
file(WRITE "${OUT}.tmp"
  "/* Generated from ${IN} by embed.cmake: edit that file instead. */\n"
  "#include \"flash_files.h\"\n\n"
  "const unsigned char ${SYM}[] = {\n    ${bytes}0x00};\n"
  "const size_t ${SYM}_len = ${len};\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
