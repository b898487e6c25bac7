/*
 * ast.c - the syntax tree that the grammar's actions build.
 *
 * The tree mirrors the text: a model is a list of calls, a call has a
 * dotted name and arguments, an argument's value is a number, string,
 * name, boolean, None, list or nested call. Nothing here knows what a
 * Dense layer is; lower.c gives the calls their meaning. Builders take
 * ownership of nothing and allocate from the arena; lists are linked
 * through `next` and appended in order.
 *
 * Arithmetic in arguments (Rescaling(1./255), Dense(512 // 2),
 * input_shape=(28 * 28,)) is folded here, as the parser builds it, with
 * Python's semantics: an int stays an int under + - * // % and ** with a
 * non-negative exponent, / always gives a float, // floors and % takes the
 * sign of the divisor (for floats too, as Python's float divmod), and a
 * float anywhere makes the result a float. int(x), float(x), abs(x) and
 * round(x) of a number fold too. A division by zero, an integer beyond 64
 * bits, a float overflow, a negative number to a fractional power or an
 * operand that is not a number is reported at the operator and gives a
 * VAL_ERROR value, which lowering skips without a second message.
 */
#include <errno.h>
#include <math.h>
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
    v->f = b;
    return v;
}

Value *ast_none(Loc loc) { return new_value(VAL_NONE, loc); }

Value *ast_list(Value *items, Loc loc)
{
    Value *v = new_value(VAL_LIST, loc);
    v->items = items;
    return v;
}

/* ---------------------------------------------------------------- constant expressions */

static int is_number(const Value *v)
{
    return v->kind == VAL_INT || v->kind == VAL_FLOAT || v->kind == VAL_BOOL;
}

static Value *int_value(int64_t i, Loc loc)
{
    Value *v = new_value(VAL_INT, loc);
    v->i = i;
    v->f = (double)i;
    return v;
}

static Value *float_value(double f, Loc loc)
{
    Value *v = new_value(VAL_FLOAT, loc);
    v->f = f;
    return v;
}

static Value *fold_error(const Source *src, Loc at, const char *msg)
{
    diag_error(src, at, "%s", msg);
    return new_value(VAL_ERROR, at);
}

static const char *op_name(int op)
{
    return op == AST_FLOORDIV ? "//" : op == AST_POW ? "**" : op == '+' ? "+" : op == '-' ? "-"
         : op == '*' ? "*" : op == '/' ? "/" : "%";
}

/* Python's float divmod (Objects/floatobject.c): floor division and a
 * remainder with the sign of the divisor. */
static void py_float_divmod(double vx, double wx, double *floordiv, double *mod)
{
    double m = fmod(vx, wx), div = (vx - m) / wx;
    if (m) {
        if ((wx < 0) != (m < 0)) {
            m += wx;
            div -= 1.0;
        }
    } else {
        m = copysign(0.0, wx);
    }
    double fd;
    if (div) {
        fd = floor(div);
        if (div - fd > 0.5)
            fd += 1.0;
    } else {
        fd = copysign(0.0, vx / wx);
    }
    *floordiv = fd;
    *mod = m;
}

static Value *fold_int(const Source *src, int op, int64_t a, int64_t b, Loc op_loc, Loc loc)
{
    int64_t r = 0;
    int overflow = 0;
    switch (op) {
    case '+': overflow = __builtin_add_overflow(a, b, &r); break;
    case '-': overflow = __builtin_sub_overflow(a, b, &r); break;
    case '*': overflow = __builtin_mul_overflow(a, b, &r); break;
    case '/':
        if (b == 0)
            return fold_error(src, op_loc, "division by zero");
        return float_value((double)a / (double)b, loc);
    case AST_FLOORDIV:
    case '%':
        if (b == 0)
            return fold_error(src, op_loc, op == '%' ? "integer modulo by zero" : "integer division by zero");
        if (a == INT64_MIN && b == -1) {
            overflow = 1;
            break;
        }
        r = op == '%' ? a % b : a / b;
        if (op == '%' && r != 0 && ((r < 0) != (b < 0)))
            r += b;
        if (op == AST_FLOORDIV && a % b != 0 && ((a < 0) != (b < 0)))
            r--;
        break;
    case AST_POW:
        if (b < 0) {
            if (a == 0)
                return fold_error(src, op_loc, "0 cannot be raised to a negative power");
            return float_value(pow((double)a, (double)b), loc);
        }
        r = 1;
        for (int64_t k = 0; k < b && !overflow; k++) {
            overflow = __builtin_mul_overflow(r, a, &r);
            if (r == 0 || r == 1)
                break;   /* 0 ** b, 1 ** b */
            if (r == -1 && a == -1) {
                r = (b % 2) ? -1 : 1;
                break;
            }
        }
        break;
    default:
        ir_internal_error("an operator the grammar does not make");
    }
    if (overflow)
        return fold_error(src, op_loc, "integer overflow: seqc's integers have 64 bits");
    return int_value(r, loc);
}

static Value *fold_float(const Source *src, int op, double a, double b, Loc op_loc, Loc loc)
{
    double r = 0, fd, m;
    switch (op) {
    case '+': r = a + b; break;
    case '-': r = a - b; break;
    case '*': r = a * b; break;
    case '/':
        if (b == 0)
            return fold_error(src, op_loc, "float division by zero");
        r = a / b;
        break;
    case AST_FLOORDIV:
    case '%':
        if (b == 0)
            return fold_error(src, op_loc, op == '%' ? "float modulo by zero" : "float floor division by zero");
        py_float_divmod(a, b, &fd, &m);
        r = op == '%' ? m : fd;
        break;
    case AST_POW:
        if (a == 0 && b < 0)
            return fold_error(src, op_loc, "0.0 cannot be raised to a negative power");
        if (a < 0 && b != floor(b) && isfinite(b))
            return fold_error(src, op_loc, "a negative number to a fractional power is a complex number");
        r = pow(a, b);
        if (isinf(r) && isfinite(a) && isfinite(b))
            return fold_error(src, op_loc, "float overflow in '**'");
        break;
    default:
        ir_internal_error("an operator the grammar does not make");
    }
    return float_value(r, loc);
}

Value *ast_symbolic(const Source *src, Loc loc)
{
    Value *v = new_value(VAL_SYMBOLIC, loc);
    v->s = arena_strndup(src->text + loc.start, (size_t)(loc.end - loc.start));
    return v;
}

/* A Python name or expression of one: the operation's result is one too. */
static int symbolic(const Value *v)
{
    return v->kind == VAL_SYMBOLIC || v->kind == VAL_NAME;
}

Value *ast_binop(const Source *src, int op, Value *a, Value *b, Loc op_loc, Loc loc)
{
    if (a->kind == VAL_ERROR || b->kind == VAL_ERROR)
        return new_value(VAL_ERROR, loc);
    if ((symbolic(a) && (symbolic(b) || is_number(b))) || (symbolic(b) && is_number(a)))
        return ast_symbolic(src, loc);
    if (!is_number(a) || !is_number(b)) {
        const Value *bad = is_number(a) ? b : a;
        diag_error(src, bad->loc, "operator '%s' needs numbers, not %s", op_name(op), ast_kind_name(bad->kind));
        return new_value(VAL_ERROR, loc);
    }
    Value *r;
    if (a->kind != VAL_FLOAT && b->kind != VAL_FLOAT)
        r = fold_int(src, op, a->i, b->i, op_loc, loc);
    else
        r = fold_float(src, op, a->f, b->f, op_loc, loc);
    r->truediv = r->kind == VAL_FLOAT && (op == '/' || a->truediv || b->truediv);
    return r;
}

Value *ast_unary(const Source *src, int op, Value *a, Loc loc)
{
    if (a->kind == VAL_ERROR)
        return new_value(VAL_ERROR, loc);
    if (symbolic(a))
        return ast_symbolic(src, loc);
    if (!is_number(a)) {
        diag_error(src, a->loc, "unary '%c' needs a number, not %s", op, ast_kind_name(a->kind));
        return new_value(VAL_ERROR, loc);
    }
    Value *r;
    if (a->kind == VAL_FLOAT) {
        r = float_value(op == '-' ? -a->f : a->f, loc);
    } else {
        if (op == '-' && a->i == INT64_MIN)
            return fold_error(src, loc, "integer overflow: seqc's integers have 64 bits");
        r = int_value(op == '-' ? -a->i : a->i, loc);
    }
    r->truediv = a->truediv;
    return r;
}

Value *ast_paren(Value *v, Loc loc)
{
    v->loc = loc;
    v->paren = 1;
    return v;
}

Value *ast_dict(Value *entries, Loc loc)
{
    Value *v = new_value(VAL_DICT, loc);
    v->items = entries;
    return v;
}

Value *ast_entry(Value *key, Value *val)
{
    key->dval = val;
    return key;
}

/* int(x), float(x), abs(x), round(x) of one number: folded; NULL if the
 * call is anything else (lowering then says what it is). */
static Value *fold_builtin(const char *name, const Arg *args, Loc loc)
{
    if (!args || args->key || args->next || !is_number(args->val))
        return NULL;
    const Value *x = args->val;
    int is_float = x->kind == VAL_FLOAT;
    if (!strcmp(name, "float"))
        return float_value(x->f, loc);
    if (!strcmp(name, "abs"))
        return is_float ? float_value(fabs(x->f), loc) : x->i == INT64_MIN ? NULL : int_value(x->i < 0 ? -x->i : x->i, loc);
    if (strcmp(name, "int") && strcmp(name, "round"))
        return NULL;
    if (!is_float)
        return int_value(x->i, loc);
    double r = !strcmp(name, "int") ? trunc(x->f) : nearbyint(x->f);   /* Python's round: half to even */
    if (!(r >= -9.2e18 && r <= 9.2e18))
        return NULL;
    return int_value((int64_t)r, loc);
}

Value *ast_dotted(Value *left, const char *right, Loc loc)
{
    left->s = arena_printf("%s.%s", left->s, right);
    left->loc = loc;
    return left;
}

Value *ast_call(Value *callee, Arg *args, Loc loc)
{
    Value *folded = fold_builtin(callee->s, args, loc);
    if (folded)
        return folded;
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
        "None", "a list", "a call", "a dict", "an invalid expression",
        "a Python expression",
    };
    return names[k];
}
