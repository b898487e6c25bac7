/* scan.h - state shared by the scanner (grammar/model.l) and parse.c. */
#ifndef SEQC_SCAN_H
#define SEQC_SCAN_H

struct ScanState {
    const Source *src;
    int offset;     /* byte offset of the next character */
    int depth;      /* nesting of ( and [: newlines inside are blanks */
    Loc open[64];   /* where the innermost open ( and [ are, for notes */
    Loc brace;      /* where the last { is */
    Loc unclosed;   /* the bracket a '}' closed (see model.l) */
};

/* What the parser builds. */
typedef struct {
    const Source *src;
    ModelAst *models;
} ParseResult;

#endif
