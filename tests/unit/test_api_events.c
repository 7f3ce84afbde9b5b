/* How the events feed spells effects as JSON (adapters/api/events.c): an audit record names
 * who did what to which object, and carries no session. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "adapters/api/internal.h"

static const char *text_of(json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);
    assert_non_null(v);
    return json_string_value(v);
}

static void an_audit_names_actor_action_and_object(void **state)
{
    (void)state;
    struct engine_effect fx = {.kind = ENGINE_FX_AUDIT,
                               .state = ENGINE_CMD_QUEUE_PAUSE,
                               .text = "token:ops-admin",
                               .queue = "sales",
                               .agent = "",
                               .object = "sales",
                               .at = 1767600000000,
                               .home = "",
                               .session = ""};
    json_t *j = api__event_json(42, 3, &fx);
    assert_string_equal(text_of(j, "id"), "42.3");
    assert_string_equal(text_of(j, "kind"), "audit");
    assert_string_equal(text_of(j, "actor"), "token:ops-admin");
    assert_string_equal(text_of(j, "action"), "queue_pause");
    assert_string_equal(text_of(j, "object"), "sales");
    assert_string_equal(text_of(j, "queue"), "sales");
    assert_true(json_integer_value(json_object_get(j, "at")) == 1767600000000);
    assert_null(json_object_get(j, "agent"));
    assert_null(json_object_get(j, "session"));
    assert_null(json_object_get(j, "text"));
    json_decref(j);
}

static void an_audit_about_a_contact_names_it(void **state)
{
    (void)state;
    struct engine_effect fx = {.kind = ENGINE_FX_AUDIT,
                               .state = ENGINE_CMD_CONTACT_TRANSFER,
                               .contact = 77,
                               .object = "77"};
    json_t *j = api__event_json(1, 0, &fx);
    assert_string_equal(text_of(j, "actor"), ""); /* the node itself */
    assert_string_equal(text_of(j, "action"), "contact_transfer");
    assert_true(json_integer_value(json_object_get(j, "contact")) == 77);
    assert_null(json_object_get(j, "session"));
    assert_null(json_object_get(j, "channel"));
    json_decref(j);
}

static void a_notes_action_is_its_own(void **state)
{
    (void)state;
    struct engine_effect fx = {.kind = ENGINE_FX_AUDIT,
                               .state = ENGINE_CMD_AUDIT_NOTE,
                               .text = "token:ops-admin",
                               .action = "leader_transfer",
                               .object = "n2"};
    json_t *j = api__event_json(9, 0, &fx);
    assert_string_equal(text_of(j, "action"), "leader_transfer");
    assert_string_equal(text_of(j, "object"), "n2");
    json_decref(j);
}

static void a_model_event_keeps_its_shape(void **state)
{
    (void)state;
    struct engine_effect fx = {.kind = ENGINE_FX_MODEL, .at = 7, .text = "user:alice"};
    json_t *j = api__event_json(5, 0, &fx);
    assert_string_equal(text_of(j, "kind"), "model");
    assert_string_equal(text_of(j, "actor"), "user:alice");
    assert_true(json_integer_value(json_object_get(j, "version")) == 7);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_audit_names_actor_action_and_object),
        cmocka_unit_test(an_audit_about_a_contact_names_it),
        cmocka_unit_test(a_notes_action_is_its_own),
        cmocka_unit_test(a_model_event_keeps_its_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
