/*
 * Graph ordering tests on IR built by hand: Kahn order with ties broken by file order,
 * producers before consumers whatever the file order, and cycles reported by node.
 */
#include <stdio.h>
#include <string.h>

#include "testutil.h"

/* A graph of n nodes over n_values values; node i reads ins[i][0..1] (-1 = none) and writes
 * value outs[i]. Values with no producer are graph inputs. */
static onyxi_graph *make_graph(int n, int n_values, const int ins[][2], const int *outs) {
    onyxi_graph *g = onyxi_calloc(1, sizeof *g);
    g->n_values = n_values;
    g->values = onyxi_calloc((size_t)n_values, sizeof *g->values);
    for (int v = 0; v < n_values; v++) {
        char name[16];
        snprintf(name, sizeof name, "v%d", v);
        g->values[v].name = onyxi_strdup(name);
        g->values[v].producer = -1;
        g->values[v].info.rank = -1;
    }
    g->n_nodes = n;
    g->nodes = onyxi_calloc((size_t)n, sizeof *g->nodes);
    for (int i = 0; i < n; i++) {
        onyxi_node *nd = &g->nodes[i];
        char name[16];
        snprintf(name, sizeof name, "n%d", i);
        nd->name = onyxi_strdup(name);
        nd->op_type = onyxi_strdup("Sigmoid");
        nd->domain = onyxi_strdup("");
        nd->opset = 13;
        nd->n_inputs = 2;
        nd->inputs = onyxi_calloc(2, sizeof(int));
        nd->inputs[0] = ins[i][0];
        nd->inputs[1] = ins[i][1];
        nd->n_outputs = 1;
        nd->outputs = onyxi_calloc(1, sizeof(int));
        nd->outputs[0] = outs[i];
        g->values[outs[i]].producer = i;
    }
    return g;
}

START_TEST(test_graph_order_puts_producers_first) {
    /* file order: n0 reads v2 (made by n2), n1 reads v3 (made by n0), n2 reads v0 (input) */
    const int ins[3][2] = {{2, -1}, {3, -1}, {0, -1}};
    const int outs[3] = {3, 4, 2};
    onyxi_graph *g = make_graph(3, 5, ins, outs);
    onyxi_err e;
    ck_assert_int_eq(onyxi_graph_order(g, &e), ONYX_OK);
    ck_assert_int_eq(g->order[0], 2);
    ck_assert_int_eq(g->order[1], 0);
    ck_assert_int_eq(g->order[2], 1);
    onyxi_graph_free(g);
}
END_TEST

START_TEST(test_graph_order_ties_follow_file_order) {
    /* four independent nodes reading the input, then one joining two of them */
    const int ins[5][2] = {{6, 7}, {0, -1}, {0, -1}, {0, -1}, {0, -1}};
    const int outs[5] = {5, 1, 2, 6, 7};
    onyxi_graph *g = make_graph(5, 8, ins, outs);
    onyxi_err e;
    ck_assert_int_eq(onyxi_graph_order(g, &e), ONYX_OK);
    const int want[5] = {1, 2, 3, 4, 0};
    for (int i = 0; i < 5; i++) ck_assert_int_eq(g->order[i], want[i]);
    /* deterministic: ordering again gives the same order */
    ck_assert_int_eq(onyxi_graph_order(g, &e), ONYX_OK);
    for (int i = 0; i < 5; i++) ck_assert_int_eq(g->order[i], want[i]);
    onyxi_graph_free(g);
}
END_TEST

START_TEST(test_graph_cycle_is_invalid_model) {
    /* n0 reads v2 (from n1), n1 reads v1 (from n0): a cycle; n2 is fine */
    const int ins[3][2] = {{2, -1}, {1, -1}, {0, -1}};
    const int outs[3] = {1, 2, 3};
    onyxi_graph *g = make_graph(3, 4, ins, outs);
    onyxi_err e;
    onyxi_err_clear(&e);
    ck_assert_int_eq(onyxi_graph_order(g, &e), ONYX_INVALID_MODEL);
    ck_assert_msg(strstr(e.msg, "cycle") && strstr(e.msg, "n0"), "message: %s", e.msg);
    onyxi_graph_free(g);
}
END_TEST

START_TEST(test_graph_node_reading_a_value_twice) {
    const int ins[2][2] = {{0, 0}, {1, 1}};
    const int outs[2] = {1, 2};
    onyxi_graph *g = make_graph(2, 3, ins, outs);
    onyxi_err e;
    ck_assert_int_eq(onyxi_graph_order(g, &e), ONYX_OK);
    ck_assert_int_eq(g->order[0], 0);
    ck_assert_int_eq(g->order[1], 1);
    onyxi_graph_free(g);
}
END_TEST

START_TEST(test_graph_unnamed_node_label_names_output) {
    const int ins[1][2] = {{0, -1}};
    const int outs[1] = {1};
    onyxi_graph *g = make_graph(1, 2, ins, outs);
    g->nodes[0].name[0] = '\0';
    char buf[128];
    onyxi_node_label(g, 0, buf, sizeof buf);
    ck_assert_str_eq(buf, "node #0 (Sigmoid-13, output 'v1')");
    onyxi_graph_free(g);
}
END_TEST

int main(void) {
    Suite *s = suite_create("graph");
    TCase *tc = tcase_create("order");
    tcase_add_test(tc, test_graph_order_puts_producers_first);
    tcase_add_test(tc, test_graph_order_ties_follow_file_order);
    tcase_add_test(tc, test_graph_cycle_is_invalid_model);
    tcase_add_test(tc, test_graph_node_reading_a_value_twice);
    tcase_add_test(tc, test_graph_unnamed_node_label_names_output);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
