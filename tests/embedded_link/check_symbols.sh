#!/bin/sh
# The app linked against libseqrt_kernels alone needs no stdio and no
# allocator: none of these symbols may be undefined in it (they would come
# from libc). Usage: check_symbols.sh APP
set -eu
bad=$(nm -u "$1" | awk '{print $NF}' | sed 's/@.*//' |
      grep -E '^(printf|fprintf|vfprintf|vsnprintf|snprintf|sprintf|puts|fputs|fputc|putchar|fopen|fclose|fwrite|fread|fflush|malloc|calloc|realloc|free|stdout|stderr|open|write|read)$' || true)
if [ -n "$bad" ]; then
    echo "embedded_link: $1 needs: $bad" >&2
    exit 1
fi
echo "embedded_link: $1 links no stdio and no malloc"
