/*
 * parse.c - runs the scanner and the parser over one source file.
 *
 * The scanner reads the whole file from memory (yy_scan_bytes), so NUL
 * bytes and invalid UTF-8 are ordinary input that the scanner reports, not
 * string terminators.
 */
#include "seqc.h"
#include "scan.h"
#include "parser.h"
#include "lexer.h"

ModelAst *parse_source(const Source *src)
{
    struct ScanState state = { .src = src };
    ParseResult result = { src, NULL };
    yyscan_t scanner;
    if (yylex_init_extra(&state, &scanner) != 0) {
        diag_fatal("cannot start the scanner");
        return NULL;
    }
    YY_BUFFER_STATE buf = yy_scan_bytes(src->text, src->len, scanner);
    yyparse(scanner, &result);
    yy_delete_buffer(buf, scanner);
    yylex_destroy(scanner);
    return result.models;
}
