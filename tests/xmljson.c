/*
 * Recursive-descent checkers behind xmljson.h. They validate structure only: enough to
 * catch unescaped characters, unbalanced tags and truncated output in generated files.
 */
#include <ctype.h>
#include <string.h>

#include "xmljson.h"

/* ---- XML ---- */

static int name_char(char c) { return isalnum((unsigned char)c) || c == '_' || c == '-' || c == ':' || c == '.'; }

/* Checks "&...;" at p; returns its length or 0. */
static size_t entity(const char *p) {
    static const char *const names[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
    for (int i = 0; i < 5; i++)
        if (strncmp(p, names[i], strlen(names[i])) == 0) return strlen(names[i]);
    if (p[1] == '#') {
        size_t n = 2;
        if (p[2] == 'x') n++;
        size_t digits = 0;
        while (isxdigit((unsigned char)p[n])) n++, digits++;
        return digits && p[n] == ';' ? n + 1 : 0;
    }
    return 0;
}

int tu_xml_well_formed(const char *text, size_t *at) {
    const char *p = text;
    const char *stack[256];
    size_t lens[256];
    int depth = 0, roots = 0;
    *at = 0;
    while (*p) {
        if (strncmp(p, "<?", 2) == 0) {
            const char *e = strstr(p, "?>");
            if (!e || depth || roots) goto bad;
            p = e + 2;
        } else if (strncmp(p, "<!--", 4) == 0) {
            const char *e = strstr(p, "-->");
            if (!e) goto bad;
            p = e + 3;
        } else if (strncmp(p, "</", 2) == 0) {
            p += 2;
            const char *n = p;
            while (name_char(*p)) p++;
            if (depth == 0 || (size_t)(p - n) != lens[depth - 1] ||
                strncmp(n, stack[depth - 1], lens[depth - 1]) != 0)
                goto bad;
            depth--;
            while (isspace((unsigned char)*p)) p++;
            if (*p++ != '>') goto bad;
        } else if (*p == '<') {
            p++;
            const char *n = p;
            while (name_char(*p)) p++;
            if (p == n || depth == 256 || (depth == 0 && roots++)) goto bad;
            stack[depth] = n;
            lens[depth++] = (size_t)(p - n);
            for (;;) {
                while (isspace((unsigned char)*p)) p++;
                if (*p == '>') {
                    p++;
                    break;
                }
                if (p[0] == '/' && p[1] == '>') {
                    p += 2;
                    depth--;
                    break;
                }
                const char *an = p;
                while (name_char(*p)) p++;
                if (p == an || *p++ != '=') goto bad;
                char q = *p++;
                if (q != '"' && q != '\'') goto bad;
                while (*p && *p != q) {
                    if (*p == '<') goto bad;
                    if (*p == '&') {
                        size_t n2 = entity(p);
                        if (!n2) goto bad;
                        p += n2;
                    } else {
                        p++;
                    }
                }
                if (*p++ != q) goto bad;
            }
        } else if (*p == '&') {
            size_t n = entity(p);
            if (!n) goto bad;
            p += n;
        } else {
            if (depth == 0 && !isspace((unsigned char)*p)) goto bad; /* text outside the root */
            if (*p == '>') goto bad;
            p++;
        }
    }
    if (depth == 0 && roots == 1) return 1;
bad:
    *at = (size_t)(p - text);
    return 0;
}

/* ---- JSON ---- */

static const char *ws(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
}

static const char *value(const char *p, int depth);

static const char *string(const char *p) {
    if (*p++ != '"') return NULL;
    while (*p != '"') {
        if ((unsigned char)*p < 0x20) return NULL;
        if (*p == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!isxdigit((unsigned char)p[i])) return NULL;
                p += 5;
            } else if (*p && strchr("\"\\/bfnrt", *p)) {
                p++;
            } else {
                return NULL;
            }
        } else {
            p++;
        }
    }
    return p + 1;
}

static const char *number(const char *p) {
    if (*p == '-') p++;
    if (*p == '0') p++;
    else if (isdigit((unsigned char)*p)) while (isdigit((unsigned char)*p)) p++;
    else return NULL;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p)) return NULL;
        while (isdigit((unsigned char)*p)) p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!isdigit((unsigned char)*p)) return NULL;
        while (isdigit((unsigned char)*p)) p++;
    }
    return p;
}

static const char *value(const char *p, int depth) {
    p = ws(p);
    if (depth > 200) return NULL;
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        int obj = *p == '{';
        p = ws(p + 1);
        if (*p == close) return p + 1;
        for (;;) {
            if (obj) {
                p = string(ws(p));
                if (!p) return NULL;
                p = ws(p);
                if (*p++ != ':') return NULL;
            }
            p = value(p, depth + 1);
            if (!p) return NULL;
            p = ws(p);
            if (*p == ',') {
                p++;
                continue;
            }
            return *p == close ? p + 1 : NULL;
        }
    }
    if (*p == '"') return string(p);
    if (strncmp(p, "true", 4) == 0) return p + 4;
    if (strncmp(p, "false", 5) == 0) return p + 5;
    if (strncmp(p, "null", 4) == 0) return p + 4;
    return number(p);
}

int tu_json_valid(const char *text, size_t *at) {
    const char *end = value(text, 0);
    if (end && *ws(end) == '\0') {
        *at = 0;
        return 1;
    }
    *at = end ? (size_t)(end - text) : 0;
    return 0;
}
