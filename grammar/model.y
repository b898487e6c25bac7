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
 * checked.
 */
%define api.pure full
%define api.location.type {Loc}
%define parse.error detailed
%define parse.lac full
%locations
%expect 0

%param {yyscan_t scanner}
%parse-param {ParseResult *result}

%code requires {
#include "seqc.h"
#include "scan.h"
typedef void *yyscan_t;
}

%code provides {
int yylex(YYSTYPE *lval, Loc *lloc, yyscan_t scanner);
void yyerror(Loc *loc, yyscan_t scanner, ParseResult *result, const char *msg);
}

%code {
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

%type <model> models model
%type <val> stmts stmt call callee value items number
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
    | error sep                    { $$ = NULL; }
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

value
    : number                       { $$ = $1; }
    | '-' number                   { $$ = ast_negate($2, @$); }
    | '+' number                   { $$ = $2; }
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
    | '(' value ')'                { $$ = $2; }
    | '(' value ',' ')'            { $$ = ast_list($2, @$); }
    | '(' value ',' items ')'      { $$ = ast_list(ast_prepend($2, $4), @$); }
    | '(' value ',' items ',' ')'  { $$ = ast_list(ast_prepend($2, $4), @$); }
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
    diag_error(result->src, *loc, "%s", msg);
}
