/*
 * arena.c - the compiler's one allocator.
 *
 * seqc is a short-lived process: everything it builds (tokens' text, the
 * syntax tree, the IR, output buffers' bookkeeping) is allocated from a
 * chain of large blocks and released together when the process exits. No
 * node is ever freed on its own, so no pass has to think about ownership.
 */
#include <stdlib.h>
#include <string.h>

#include "seqc.h"

typedef union {
    long double ld;
    long long ll;
    void *p;
} Align;

typedef struct Block {
    struct Block *next;
    size_t used, size;
    Align data[];
} Block;

static Block *head;

void *arena_alloc(size_t size)
{
    size = (size + sizeof(Align) - 1) / sizeof(Align) * sizeof(Align);
    if (!head || head->size - head->used < size) {
        size_t bsize = size > (1u << 20) ? size : (1u << 20);
        Block *b = malloc(sizeof(Block) + bsize);
        if (!b) {
            diag_fatal("out of memory");   /* prints; does not exit */
            exit(1);
        }
        b->next = head;
        b->used = 0;
        b->size = bsize;
        head = b;
    }
    void *p = (char *)head->data + head->used;
    head->used += size;
    memset(p, 0, size);
    return p;
}

void arena_reset(void)
{
    while (head) {
        Block *b = head;
        head = b->next;
        free(b);
    }
}

char *arena_strndup(const char *s, size_t n)
{
    char *p = arena_alloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *arena_strdup(const char *s)
{
    return arena_strndup(s, strlen(s));
}

char *arena_vprintf(const char *fmt, va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    char *p = arena_alloc((size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *arena_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = arena_vprintf(fmt, ap);
    va_end(ap);
    return p;
}
