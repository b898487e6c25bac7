/*
 * ast.c - the syntax tree that the grammar's actions build.
 *
 * The tree mirrors the text: a model is a list of calls, a call has a
 * dotted name and arguments, an argument's value is a number, string,
 * name, boolean, None, list or nested call. Nothing here knows what a
 * Dense layer is; lower.c gives the calls their meaning. Builders take
 * ownership of nothing and allocate from the arena; lists are linked
 * through `next` and appended in order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "seqc.h"

static Value *new_value(ValKind kind, Loc loc)
{
    Value *v = arena_alloc(sizeof *v);
    v->kind = kind;
    v->loc = loc;
    return v;
}

Value *ast_int(const char *text, Loc loc)
{
    Value *v = new_value(VAL_INT, loc);
    errno = 0;
    long long i = strtoll(text, NULL, 10);
    v->i = errno == ERANGE ? INT64_MAX : i;
    v->f = strtod(text, NULL);
    return v;
}

Value *ast_float(const char *text, Loc loc)
{
    Value *v = new_value(VAL_FLOAT, loc);
    v->f = strtod(text, NULL);
    return v;
}

/* Python-style escapes: \n \t \\ \' \" ; others keep the backslash. */
Value *ast_string(const char *text, Loc loc)
{
    Value *v = new_value(VAL_STRING, loc);
    size_t n = strlen(text);
    char *s = arena_alloc(n + 1), *p = s;
    for (size_t i = 1; i + 1 < n; i++) {
        if (text[i] == '\\' && i + 2 < n) {
            char c = text[++i];
            *p++ = c == 'n' ? '\n' : c == 't' ? '\t' : c;
        } else {
            *p++ = text[i];
        }
    }
    *p = 0;
    v->s = s;
    return v;
}

Value *ast_name(const char *text, Loc loc)
{
    Value *v = new_value(VAL_NAME, loc);
    v->s = text;
    return v;
}

Value *ast_bool(int b, Loc loc)
{
    Value *v = new_value(VAL_BOOL, loc);
    v->i = b;
    return v;
}

Value *ast_none(Loc loc) { return new_value(VAL_NONE, loc); }

Value *ast_list(Value *items, Loc loc)
{
    Value *v = new_value(VAL_LIST, loc);
    v->items = items;
    return v;
}

Value *ast_negate(Value *number, Loc loc)
{
    number->i = -number->i;
    number->f = -number->f;
    number->loc = loc;
    return number;
}

Value *ast_dotted(Value *left, const char *right, Loc loc)
{
    left->s = arena_printf("%s.%s", left->s, right);
    left->loc = loc;
    return left;
}

Value *ast_call(Value *callee, Arg *args, Loc loc)
{
    Value *v = new_value(VAL_CALL, loc);
    v->s = callee->s;
    v->args = args;
    return v;
}

Value *ast_append(Value *list, Value *item)
{
    if (!item)
        return list;
    if (!list)
        return item;
    Value *p = list->last ? list->last : list;
    while (p->next)
        p = p->next;
    p->next = item;
    list->last = item;
    return list;
}

Value *ast_prepend(Value *item, Value *list)
{
    item->next = list;
    return item;
}

Arg *ast_arg(const char *key, Loc key_loc, Value *val)
{
    Arg *a = arena_alloc(sizeof *a);
    a->key = key;
    a->key_loc = key_loc;
    a->val = val;
    return a;
}

Arg *ast_arg_append(Arg *list, Arg *arg)
{
    Arg *p = list->last ? list->last : list;
    while (p->next)
        p = p->next;
    p->next = arg;
    list->last = arg;
    return list;
}

ModelAst *ast_model(const char *name, Loc name_loc, Value *stmts, Loc loc)
{
    ModelAst *m = arena_alloc(sizeof *m);
    m->name = name;
    m->name_loc = name_loc;
    m->stmts = stmts;
    m->loc = loc;
    return m;
}

ModelAst *ast_model_append(ModelAst *list, ModelAst *m)
{
    if (!m)
        return list;
    if (!list)
        return m;
    ModelAst *p = list;
    while (p->next)
        p = p->next;
    p->next = m;
    return list;
}

const char *ast_kind_name(ValKind k)
{
    static const char *const names[] = {
        "an integer", "a number", "a string", "a name", "a boolean",
        "None", "a list", "a call",
    };
    return names[k];
}
