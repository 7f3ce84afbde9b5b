/* CD_ASSERT(): an assertion that stays on in release builds.
 *
 * For invariants of the replicated state whose silent corruption would be copied to every
 * node (through the log's later decisions, or a snapshot): an agent over capacity, an offer
 * id used twice, a contact in two places, the clock running backwards. When one fails the
 * process prints the file, line, function and expression to stderr and aborts, so that the
 * node stops instead of spreading a state no other node has.
 *
 * Only for what the code itself guarantees, never for input: a malformed command or
 * snapshot gets an error result (an assertion there would fire on every replica at once).
 * Keep the expression cheap (a comparison or a hash lookup, no walks): it runs on hot paths.
 * assert() stays the tool for programmer invariants that may be compiled out. */
#ifndef CD_COMMON_ASSERT_H
#define CD_COMMON_ASSERT_H

#define CD_ASSERT(expr)                      \
    (__builtin_expect(!!(expr), 1) ? (void)0 \
                                   : cd__assert_fail(#expr, __FILE__, __LINE__, __func__))

/* Prints "contactd: FILE:LINE: FUNC: invariant 'EXPR' failed" to stderr and aborts. */
void cd__assert_fail(const char *expr, const char *file, int line, const char *func)
    __attribute__((noreturn, cold));

#endif
