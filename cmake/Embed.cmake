# Turns a file into a C array (build step of the embedded dashboard):
#   cmake -DIN=file -DOUT=file.c -DNAME=symbol -P Embed.cmake
# defines `const unsigned char NAME[]` (NUL-terminated) and
# `const unsigned int NAME_len` (without the NUL).
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE "${OUT}" "/* Generated from ${IN} by cmake/Embed.cmake. */\n"
     "const unsigned char ${NAME}[] = {${bytes}0x00};\nconst unsigned int ${NAME}_len = ${len};\n")
