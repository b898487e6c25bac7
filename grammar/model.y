/*
 * model.y - the grammar of the seqc model language.
 *
 * A pure, reentrant LALR(1) parser with locations. The grammar knows only
 * the shape of the language: model blocks holding statements, each a call
 * with positional and keyword arguments whose values are numbers, strings,
 * names, lists and nested calls, as in Python. What the calls mean (layers,
 * compile, fit, their Keras arguments and defaults) is lower.c's business,
 * so every action here is one builder call from ast.c.
 *
 * Error recovery: a bad statement is skipped up to the end of its line (or
 * its separating comma), a bad model header up to the block's closing
 * brace, so one mistake gives one message and the rest of the file is still
 * checked. A skipped statement stays in the model as a None value, so that
 * lowering knows the model is broken and adds no message of its own (such
 * as "no layers"). Syntax errors are worded by yyreport_syntax_error below:
 * bison's "unexpected X, expecting A or B", "expecting a value" where a
 * value is missing, and a note at the unclosed bracket when the mistake is
 * on a later line than the bracket.
 */
%define api.pure full
%define api.location.type {Loc}
%define parse.error custom
%define parse.lac full
%locations
%expect 0

%param {yyscan_t scanner}
%parse-param {ParseResult *result}

%code requires {
#include "seqc.h"
#include "scan.h"
#ifndef YY_TYPEDEF_YY_SCANNER_T   /* flex's lexer.h typedefs it too */
#define YY_TYPEDEF_YY_SCANNER_T
typedef void *yyscan_t;
#endif
}

%code provides {
int yylex(YYSTYPE *lval, Loc *lloc, yyscan_t scanner);
void yyerror(Loc *loc, yyscan_t scanner, ParseResult *result, const char *msg);
}

%code {
#include <string.h>
struct ScanState *yyget_extra(yyscan_t scanner);
#define YYLLOC_DEFAULT(Cur, Rhs, N)                          \
    do {                                                     \
        if (N) {                                             \
            (Cur).start = YYRHSLOC(Rhs, 1).start;            \
            (Cur).end = YYRHSLOC(Rhs, N).end;                \
        } else {                                             \
            (Cur).start = (Cur).end = YYRHSLOC(Rhs, 0).end;  \
        }                                                    \
    } while (0)
}

%union {
    const char *text;
    Value *val;
    Arg *arg;
    ModelAst *model;
}

%token <text> NAME "name" INT "integer" FLOAT "number" STRING "string"
%token MODEL "'model'" TRUE "'True'" FALSE "'False'" NONE "'None'"
%token NEWLINE "end of line"
%token POW "'**'" FLOORDIV "'//'"

%type <model> models model
%type <val> stmts stmt call callee value items number expr term factor power primary entries entry
%type <arg> args arglist arg
%type <text> name

%%

file
    : models                       { result->models = $1; }
    ;

models
    : %empty                       { $$ = NULL; }
    | models NEWLINE               { $$ = $1; }
    | models model                 { $$ = ast_model_append($1, $2); }
    ;

model
    : MODEL NAME '{' stmts '}'     { $$ = ast_model($2, @2, $4, @$); }
    | MODEL error '}'              { $$ = NULL; }
    ;

/* Statements are separated by newlines and/or commas; blank lines and a
 * trailing comma are fine. */
stmts
    : %empty                       { $$ = NULL; }
    | stmts NEWLINE                { $$ = $1; }
    | stmts ','                    { $$ = $1; }
    | stmts stmt                   { $$ = ast_append($1, $2); }
    ;

sep
    : NEWLINE
    | ','
    ;

stmt
    : call                         { $$ = $1; }
    | error sep                    { $$ = ast_none(@1); }
    ;

call
    : callee '(' args ')'          { $$ = ast_call($1, $3, @$); }
    ;

callee
    : name                         { $$ = ast_name($1, @1); }
    | callee '.' name              { $$ = ast_dotted($1, $3, @$); }
    ;

name
    : NAME                         { $$ = $1; }
    | MODEL                        { $$ = "model"; }
    ;

args
    : %empty                       { $$ = NULL; }
    | arglist                      { $$ = $1; }
    | arglist ','                  { $$ = $1; }
    ;

arglist
    : arg                          { $$ = $1; }
    | arglist ',' arg              { $$ = ast_arg_append($1, $3); }
    ;

arg
    : value                        { $$ = ast_arg(NULL, @1, $1); }
    | NAME '=' value               { $$ = ast_arg($1, @1, $3); }
    ;

/* A value is a constant expression, folded as it is built (ast.c) with
 * Python's rules: + - * / // % ** on integers and floats, unary - and +,
 * parentheses; ** binds tighter than a unary minus on its left and is
 * right-associative, as in Python. */
value
    : expr                         { $$ = $1; }
    ;

expr
    : term                         { $$ = $1; }
    | expr '+' term                { $$ = ast_binop(result->src, '+', $1, $3, @2, @$); }
    | expr '-' term                { $$ = ast_binop(result->src, '-', $1, $3, @2, @$); }
    ;

term
    : factor                       { $$ = $1; }
    | term '*' factor              { $$ = ast_binop(result->src, '*', $1, $3, @2, @$); }
    | term '/' factor              { $$ = ast_binop(result->src, '/', $1, $3, @2, @$); }
    | term FLOORDIV factor         { $$ = ast_binop(result->src, AST_FLOORDIV, $1, $3, @2, @$); }
    | term '%' factor              { $$ = ast_binop(result->src, '%', $1, $3, @2, @$); }
    ;

factor
    : power                        { $$ = $1; }
    | '-' factor                   { $$ = ast_unary(result->src, '-', $2, @$); }
    | '+' factor                   { $$ = ast_unary(result->src, '+', $2, @$); }
    ;

power
    : primary                      { $$ = $1; }
    | primary POW factor           { $$ = ast_binop(result->src, AST_POW, $1, $3, @2, @$); }
    ;

primary
    : primary '[' subscript ']'    { $$ = ast_symbolic(result->src, @$); }
    | number                       { $$ = $1; }
    | STRING                       { $$ = ast_string($1, @1); }
    | TRUE                         { $$ = ast_bool(1, @1); }
    | FALSE                        { $$ = ast_bool(0, @1); }
    | NONE                         { $$ = ast_none(@1); }
    | callee                       { $$ = $1; }
    | call                         { $$ = $1; }
    | '[' ']'                      { $$ = ast_list(NULL, @$); }
    | '[' items ']'                { $$ = ast_list($2, @$); }
    | '[' items ',' ']'            { $$ = ast_list($2, @$); }
    | '(' ')'                      { $$ = ast_list(NULL, @$); }
    | '(' value ')'                { $$ = ast_paren($2, @$); }
    | '(' value ',' ')'            { $$ = ast_list($2, @$); }
    | '(' value ',' items ')'      { $$ = ast_list(ast_prepend($2, $4), @$); }
    | '(' value ',' items ',' ')'  { $$ = ast_list(ast_prepend($2, $4), @$); }
    | '{' '}'                      { $$ = ast_dict(NULL, @$); }
    | '{' entries '}'              { $$ = ast_dict($2, @$); }
    | '{' entries ',' '}'          { $$ = ast_dict($2, @$); }
    ;

/* A subscript or slice of a Python value (X_train.shape[1], x.shape[1:]):
 * seqc cannot evaluate it; it stays a symbolic value that lowering reports
 * (or replaces, for an input shape, by --input-shape). */
subscript
    : value
    | value ':'
    | ':' value
    | value ':' value
    | ':'
    ;

/* A dict literal's entries (fit(class_weight={0: 1.0, 1: 5.0})). */
entries
    : entry                        { $$ = $1; }
    | entries ',' entry            { $$ = ast_append($1, $3); }
    ;

entry
    : value ':' value              { $$ = ast_entry($1, $3); }
    ;

number
    : INT                          { $$ = ast_int($1, @1); }
    | FLOAT                        { $$ = ast_float($1, @1); }
    ;

items
    : value                        { $$ = $1; }
    | items ',' value              { $$ = ast_append($1, $3); }
    ;

%%

void yyerror(Loc *loc, yyscan_t scanner, ParseResult *result, const char *msg)
{
    (void)scanner;
    /* bison's "memory exhausted": its stack (YYMAXDEPTH) is full */
    if (!strcmp(msg, "memory exhausted"))
        msg = "brackets nested too deeply (the parser's stack is full)";
    diag_error(result->src, *loc, "%s", msg);
}

static int is(yysymbol_kind_t sym, const char *name) { return !strcmp(yysymbol_name(sym), name); }

static int yyreport_syntax_error(const yypcontext_t *ctx, yyscan_t scanner, ParseResult *result)
{
    const struct ScanState *st = yyget_extra(scanner);
    const Source *src = result->src;
    yysymbol_kind_t tok = yypcontext_token(ctx), exp[YYNTOKENS];
    const Loc *loc = yypcontext_location(ctx);
    int n = yypcontext_expected_tokens(ctx, exp, YYNTOKENS), value = 0, closer = 0, brace = 0;
    /* the arithmetic operators, a subscript's '[' and ':' may follow
     * almost any value: they would crowd out what the user most likely
     * left out */
    int kept = 0;
    for (int i = 0; i < n; i++)
        if (!(is(exp[i], "'+'") || is(exp[i], "'-'") || is(exp[i], "'*'") || is(exp[i], "'/'") ||
              is(exp[i], "'%'") || exp[i] == YYSYMBOL_POW || exp[i] == YYSYMBOL_FLOORDIV || is(exp[i], "':'") ||
              is(exp[i], "'['")))
            exp[kept++] = exp[i];
    n = kept;
    /* a NEWLINE at a '}' is the one the scanner adds to close brackets */
    int at_brace = tok == YYSYMBOL_NEWLINE && loc->start < src->len && src->text[loc->start] == '}';
    char msg[256];
    int len = snprintf(msg, sizeof msg, "syntax error, unexpected %s", at_brace ? "'}'" : yysymbol_name(tok));
    for (int i = 0; i < n; i++) {
        value |= exp[i] == YYSYMBOL_INT;
        closer |= is(exp[i], "')'") || is(exp[i], "']'");
        brace |= is(exp[i], "'}'");
    }
    if (value)
        snprintf(msg + len, sizeof msg - (size_t)len, ", expecting a value");
    else if (brace && tok == YYSYMBOL_YYEOF)
        snprintf(msg + len, sizeof msg - (size_t)len, ", expecting '}'");
    else
        for (int i = 0; i < n && n <= 4; i++)
            len += snprintf(msg + len, sizeof msg - (size_t)len, "%s%s", i == 0 ? ", expecting " : " or ",
                            yysymbol_name(exp[i]));
    diag_error(src, *loc, "%s", msg);
    /* the innermost bracket still open before the unexpected token */
    int depth = st->depth - (is(tok, "'('") || is(tok, "'['"));
    if (at_brace && closer)
        diag_note(src, st->unclosed, "to match this '%c'", src->text[st->unclosed.start]);
    else if (closer && depth > 0 && depth <= COUNT_OF(st->open) &&
             diag_line_of(src, st->open[depth - 1].start) < diag_line_of(src, loc->start))
        diag_note(src, st->open[depth - 1], "to match this '%c'", src->text[st->open[depth - 1].start]);
    else if (brace && tok == YYSYMBOL_YYEOF)
        diag_note(src, st->brace, "to match this '{'");
    return 0;
}
