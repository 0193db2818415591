/*
 * Minimal well-formedness checkers for the tests of generated files (JUnit XML, SVG, Chrome
 * traces, --json output), so that no Python or xmllint is needed on the CI machine.
 * Each returns 1 when text is well-formed, else 0 with the byte offset of the problem in *at.
 */
#ifndef ONYX_TEST_XMLJSON_H
#define ONYX_TEST_XMLJSON_H

#include <stddef.h>

/* XML: one root element, properly nested and closed tags, quoted attributes, only the
 * five predefined entities or numeric references, optional prolog and comments. */
int tu_xml_well_formed(const char *text, size_t *at);
/* JSON (RFC 8259): one value, nothing but whitespace after it. */
int tu_json_valid(const char *text, size_t *at);

#endif
