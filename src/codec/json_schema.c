/*
 * Schema helpers over the strict JSON reader: allowed and required members,
 * typed getters, integer parsing. Every error names the field it is about
 * ("request.timestamp") and never echoes values.
 */
#include <stdio.h>
#include <string.h>

#include "sigil/codec.h"

#define KEY_SHOW_MAX 48

int sigil_json_check_fields(const sigil_json *d, uint32_t obj, const sigil_json_field *fields,
                            size_t n, const char *where)
{
    uint64_t present = 0; /* bit i: fields[i] given and not null (keys are unique) */
    GUARD(sigil_json_expect(d, obj, SIGIL_JSON_OBJECT, where, NULL));
    ENSURE(n <= 64, SIGIL_E_INTERNAL, "%s: schema with more than 64 fields", where);
    for (uint32_t k = sigil_json_first(d, obj); k != 0; k = sigil_json_sibling(d, obj, k)) {
        size_t i = 0;
        while (i < n && !sigil_json_str_eq(d, k, fields[i].name))
            i++;
        if (i == n) {
            char name[KEY_SHOW_MAX];
            sigil_json_key_for_message(d, k, name, sizeof(name));
            BAIL(SIGIL_E_UNKNOWN_FIELD, "%s.%s: unknown field", where, name);
        }
        if (sigil_json_type_of(d, sigil_json_value(k)) != SIGIL_JSON_NULL)
            present |= 1ull << i;
    }
    for (size_t i = 0; i < n; i++)
        ENSURE(!fields[i].required || (present >> i & 1), SIGIL_E_MISSING_FIELD,
               "%s.%s: required field missing", where, fields[i].name);
    return 0;
}

int sigil_json_expect(const sigil_json *d, uint32_t t, sigil_json_type type, const char *where,
                      const char *field)
{
    sigil_json_type got = sigil_json_type_of(d, t);
    if (got == type || (type == SIGIL_JSON_TRUE && got == SIGIL_JSON_FALSE))
        return 0;
    BAIL(SIGIL_E_BAD_FIELD, "%s%s%s: expected %s, got %s", where, field ? "." : "",
         field ? field : "", sigil_json_type_name(type), sigil_json_type_name(got));
}

int sigil_json_get_str(const sigil_json *d, uint32_t obj, const char *key, bool required,
                       uint32_t *out_tok, const char *where)
{
    uint32_t v = sigil_json_get(d, obj, key);
    *out_tok = 0;
    if (v == 0 || sigil_json_type_of(d, v) == SIGIL_JSON_NULL) {
        ENSURE(!required, SIGIL_E_MISSING_FIELD, "%s.%s: required field missing", where, key);
        return 0;
    }
    GUARD(sigil_json_expect(d, v, SIGIL_JSON_STRING, where, key));
    *out_tok = v;
    return 0;
}

static int parse_digits(const char *p, size_t n, uint64_t *out, const char *what)
{
    uint64_t v = 0;
    ENSURE(n > 0 && n <= 20, SIGIL_E_OUT_OF_RANGE, "%s: integer out of range", what);
    ENSURE(n == 1 || p[0] != '0', SIGIL_E_BAD_FIELD, "%s: leading zero", what);
    for (size_t i = 0; i < n; i++) {
        ENSURE(p[i] >= '0' && p[i] <= '9', SIGIL_E_BAD_FIELD, "%s: expected an integer", what);
        uint64_t digit = (uint64_t)(p[i] - '0');
        ENSURE(v <= (UINT64_MAX - digit) / 10, SIGIL_E_OUT_OF_RANGE, "%s: integer out of range",
               what);
        v = v * 10 + digit;
    }
    *out = v;
    return 0;
}

int sigil_json_tok_u64(const sigil_json *d, uint32_t t, uint64_t *out, const char *what)
{
    ENSURE(sigil_json_type_of(d, t) == SIGIL_JSON_NUMBER, SIGIL_E_BAD_FIELD,
           "%s: expected an integer, got %s", what, sigil_json_type_name(sigil_json_type_of(d, t)));
    ENSURE(sigil_json_is_integer(d, t), SIGIL_E_BAD_FIELD, "%s: expected an integer", what);
    sigil_slice s = sigil_json_raw(d, t);
    ENSURE(s.p[0] != '-', SIGIL_E_OUT_OF_RANGE, "%s: must not be negative", what);
    return parse_digits(s.p, s.len, out, what);
}

int sigil_json_tok_i64(const sigil_json *d, uint32_t t, int64_t *out, const char *what)
{
    uint64_t mag;
    ENSURE(sigil_json_type_of(d, t) == SIGIL_JSON_NUMBER && sigil_json_is_integer(d, t),
           SIGIL_E_BAD_FIELD, "%s: expected an integer", what);
    sigil_slice s = sigil_json_raw(d, t);
    bool neg = s.p[0] == '-';
    GUARD(parse_digits(s.p + neg, s.len - neg, &mag, what));
    ENSURE(mag <= (uint64_t)INT64_MAX + neg, SIGIL_E_OUT_OF_RANGE, "%s: integer out of range",
           what);
    *out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    return 0;
}

int sigil_json_get_u64(const sigil_json *d, uint32_t obj, const char *key, bool required,
                       uint64_t *out, bool *present, const char *where)
{
    uint32_t v = sigil_json_get(d, obj, key);
    if (present)
        *present = false;
    if (v == 0 || sigil_json_type_of(d, v) == SIGIL_JSON_NULL) {
        ENSURE(!required, SIGIL_E_MISSING_FIELD, "%s.%s: required field missing", where, key);
        return 0;
    }
    if (sigil_json_tok_u64(d, v, out, key) != 0) {
        /* The message starts with key; prefix where (formatted only on failure). */
        char why[200];
        snprintf(why, sizeof(why), "%s", sigil_errmsg());
        BAIL(sigil_errno(), "%s.%s", where, why);
    }
    if (present)
        *present = true;
    return 0;
}
