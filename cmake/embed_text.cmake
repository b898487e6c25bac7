# cmake -DIN=file -DOUT=file.c -DNAME=symbol -P embed_text.cmake
#
# Writes OUT: a C file defining `const char NAME[]` with the exact text of
# IN. seqc embeds runtime/act_math.h this way, so the baked build copies the
# very text the runtime compiles.
file(READ ${IN} text)
string(REPLACE "\\" "\\\\" text "${text}")
string(REPLACE "\"" "\\\"" text "${text}")
string(REPLACE "\n" "\\n\"\n\"" text "${text}")
file(WRITE ${OUT}.tmp "/* Generated from ${NAME_OF_IN} by cmake/embed_text.cmake. Do not edit. */\nconst char ${NAME}[] =\n\"${text}\";\n")
file(RENAME ${OUT}.tmp ${OUT})
