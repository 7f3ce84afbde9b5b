/* Private to engine/: the command handlers engine_apply() dispatches to, and the helpers
 * they share for attributes and skill requirements. */
#ifndef CD_ENGINE_COMMANDS_H
#define CD_ENGINE_COMMANDS_H

#include "engine/internal.h"

int engine__cmd_create(struct engine *e,
                       const struct engine_contact_create *cr,
                       struct engine_result *res);
int engine__cmd_abandon(struct engine *e, uint64_t id, struct engine_result *res);
int engine__cmd_end(struct engine *e, uint64_t id, struct engine_result *res);
/* A connected contact's talk is over: to wrap-up, or completed when its queue has none. */
void engine__end_talk(struct engine *e, struct contact *c);
int engine__cmd_wrapup_done(struct engine *e,
                            uint64_t id,
                            const char *disposition,
                            const char *notes,
                            struct engine_result *res);
int engine__cmd_callback(struct engine *e, uint64_t id, struct engine_result *res);
int engine__cmd_set_attrs(struct engine *e,
                          uint64_t id,
                          const struct engine_attr *attrs,
                          uint8_t n,
                          struct engine_result *res);
/* PRIVACY_ERASE (privacy.c). */
int engine__cmd_erase(struct engine *e,
                      const char *key,
                      const char *value,
                      struct engine_result *res);
int engine__cmd_transfer(struct engine *e,
                         const struct engine_command *cmd,
                         struct engine_result *res);
int engine__cmd_accept(struct engine *e,
                       uint64_t offer,
                       const char *agent,
                       struct engine_result *res);
/* Makes an agent away with a reason, withdrawing every offer it holds (the contacts go
 * back to their places and are routed again). */
void engine__agent_away(struct engine *e, uint32_t ai, const char *reason);
/* Takes one agent out of a ring-all group that keeps ringing the others. */
void engine__unring(struct engine *e, struct contact *c, uint32_t ai);
int engine__cmd_reject(struct engine *e,
                       uint64_t offer,
                       const char *agent,
                       struct engine_result *res);

/* The fingerprint an idempotency key keeps (fingerprint.c): equal for creates that ask for
 * the same contact, skills and attributes in any order. CD_EINVAL for a malformed command
 * (too many skills or attributes, NULL strings). */
int engine__create_fingerprint(const struct engine_contact_create *cr, uint64_t *out);

/* Attributes are packed as "key\0value\0..." in one allocation per contact. */
int engine__attrs_check(const struct engine_attr *attrs, uint8_t n, struct engine_result *res);
int engine__attrs_set(struct contact *c, const struct engine_attr *attrs, uint8_t n);
/* Sets or (value "") removes keys; CD_ETOOBIG past ENGINE_ATTRS_MAX, contact unchanged. */
int engine__attrs_update(struct contact *c, const struct engine_attr *attrs, uint8_t n);
const char *engine__attr_get(const struct contact *c, const char *key);
/* Fills out[] with up to ENGINE_ATTRS_MAX borrowed pointers into c->attrs. */
uint8_t engine__attrs_list(const struct contact *c, struct engine_attr *out);

/* One skill name to its state id; an unknown name or a level outside 1..10 is CD_EINVAL. */
int engine__skill_ref(const struct engine *e,
                      const struct engine_skill_ref *ref,
                      uint16_t *id,
                      struct engine_result *res);
/* Skill names to state ids; unknown names and levels outside 1..10 are CD_EINVAL. */
int engine__reqs_from_refs(const struct engine *e,
                           const struct engine_skill_ref *refs,
                           uint8_t n,
                           struct reqs *out,
                           struct engine_result *res);
/* Adds src to dst; a skill in both keeps the higher minimum. Past ENGINE_REQ_SKILLS the
 * skills with the highest ids are left out. */
void engine__reqs_merge(struct reqs *dst, const struct reqs *src);
void engine__reqs_add(struct reqs *dst, uint16_t skill, uint8_t level);

#endif
