/* Relationship fields decide foreign keys at flush, as in SQLAlchemy.
 *
 * `item.category_obj.obj = &cat` makes the flush write cat's key into item.category, and
 * every object in `cat.items.items` gets cat's key in its `category`. A related object the
 * session does not track yet is added to it (SQLAlchemy's save-update cascade). When the
 * parent is new, its key comes back from its INSERT: the child waits for it (flush.c). */
#include <stdlib.h>

#include "driver/error_internal.h"
#include "session/session_internal.h"
#include "util/buf.h"

bool alch__link_ready(const alch__link *l)
{
    return !alch__field_empty(l->parent->map->pk, l->parent->obj);
}

/* Copy the parent's key into the child's foreign-key column. */
int alch__link_apply(const alch__link *l, alch_error *err)
{
    alch_value v;
    char tmp[ALCH__FIELD_TMP];
    int rc = alch__field_value(l->parent->model, l->parent->map->pk, l->parent->obj, &v, tmp, err);
    if (rc == 0)
        alch__field_set(l->fk, l->child->obj, &v);
    return rc;
}

/* The record of a related object: tracked already, or added now as pending. */
static alch__rec *related(alch_session *s, const alch_model *owner, const alch__rel_map *rm,
                          void *obj, alch_error *err)
{
    const alch__mapper *map = rm->target;
    alch__rec *r = alch__rec_by_ptr(s, obj);
    if (r && r->model != map->model) {
        alch__error_set(err, ALCH_EMISUSE, "%s.%s points to a %s, not a %s", owner->name,
                        rm->rel->name, r->model->name, map->model->name);
        alch__error_hint(err, "a relationship field holds objects of the model it names");
        return NULL;
    }
    if (!r && !(r = alch__track(s, map, obj, ALCH_PENDING)))
        alch__error_set(err, ALCH_ENOMEM, "out of memory");
    return r;
}

static int add_link(alch__sop *op, alch__rec *child, const alch_column *fk, alch__rec *parent,
                    alch_error *err)
{
    alch__link *links = alch__grow(op->links, &op->caplinks, op->nlinks, sizeof *links, 16);
    if (!links)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    op->links = links;
    op->links[op->nlinks++] = (alch__link){child, fk, parent};
    child->waits = op->gen; /* planned even if nothing else changed */
    return 0;
}

/* A child the plan has looked at already got a new key from its parent: look again. */
static int revisit(alch__sop *op, alch__rec *child, alch_error *err)
{
    alch__rec **again = alch__grow(op->revisit, &op->caprevisit, op->nrevisit, sizeof *again, 16);
    if (!again)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    op->revisit = again;
    op->revisit[op->nrevisit++] = child;
    return 0;
}

/* child.fk = parent's key now, or (parent new, op given) a link the flush resolves. */
static int relate(alch_session *s, alch__sop *op, alch__rec *child, const alch_column *fk,
                  alch__rec *parent, alch_error *err)
{
    if (child->state == ALCH_DELETED || child->state == ALCH_TRANSIENT)
        return 0;
    alch__link l = {child, fk, parent};
    int rc = alch__link_ready(&l) ? alch__link_apply(&l, err)
             : op                 ? add_link(op, child, fk, parent, err)
                                  : 0;
    if (rc == 0 && op && child->seen == op->gen)
        rc = revisit(op, child, err);
    alch__touch(s, child); /* its foreign key may have changed: autoflush looks at it */
    return rc;
}

static int relate_rel(alch_session *s, alch__sop *op, alch__rec *r, const alch__rel_map *rm,
                      alch_error *err)
{
    const alch_relationship *rel = rm->rel;
    if (!alch__rel_set(rel, r->obj))
        return 0; /* the usual case, checked first: every flush passes here */
    void *field = (char *)r->obj + rel->offset;
    if (!rel->many) {
        alch_one *one = field;
        alch__rec *parent = related(s, r->model, rm, one->obj, err);
        return parent ? relate(s, op, r, rm->fk, parent, err) : err->code;
    }
    alch_many *many = field;
    for (size_t i = 0; i < many->count; i++) {
        if (!many->items[i])
            continue;
        alch__rec *child = related(s, r->model, rm, many->items[i], err);
        int rc = child ? relate(s, op, child, rm->fk, r, err) : err->code;
        if (rc)
            return rc;
    }
    return 0;
}

int alch__relate_rec(alch_session *s, alch__sop *op, alch__rec *r, alch_error *err)
{
    if (r->state == ALCH_DELETED || r->state == ALCH_TRANSIENT)
        return 0;
    for (size_t k = 0; k < r->model->nrelationships; k++) {
        int rc = relate_rel(s, op, r, &r->map->rels[k], err);
        if (rc)
            return rc;
    }
    return 0;
}

int alch__relate(alch_session *s, alch_error *err)
{
    /* records added here land at the end of the list, and are visited in turn */
    for (alch__rec *r = s->first; r; r = r->next) {
        int rc = alch__relate_rec(s, NULL, r, err);
        if (rc)
            return rc;
    }
    return 0;
}
