/* The mapper: each model's names turned into pointers once, when its base is checked.
 *
 * alch_base_check() has already refused every name that does not resolve (a relationship's
 * target table, its foreign-key column, a missing primary key), so resolving here cannot
 * fail but for memory. What it finds, the session and the flush then read directly: the
 * primary key, each relationship's target and foreign-key column, each foreign key's target
 * model and column, the dependency rank. */
#include <stdlib.h>
#include <string.h>

#include "model/model_internal.h"

static const alch__mapper *mapper_of_table(const alch__mapper *maps, size_t n, const char *table)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(maps[i].model->table, table) == 0)
            return &maps[i];
    return NULL;
}

static void resolve_rel(alch__rel_map *rm, const alch__mapper *self, const alch_relationship *r,
                        const alch__mapper *maps, size_t n)
{
    rm->rel = r;
    rm->target = mapper_of_table(maps, n, r->target);
    const alch_model *owner = r->many ? rm->target->model : self->model;
    rm->fk = alch_model_column(owner, r->via);
    rm->fk_index = (size_t)(rm->fk - owner->columns);
}

const alch_column *alch__fk_ref(const alch_column *c, const alch_model *to)
{
    const char *fk = c->foreign_key;
    size_t tl = strlen(to->table);
    if (!fk || strncmp(fk, to->table, tl) != 0 || fk[tl] != '.')
        return NULL;
    return alch_model_column(to, fk + tl + 1);
}

/* Each foreign-key column's target, found among maps[0..n) (the check found every one). */
static void resolve_fks(alch__mapper *mp, const alch__mapper *maps, size_t n)
{
    const alch_model *m = mp->model;
    size_t k = 0;
    for (size_t i = 0; i < m->ncolumns; i++)
        for (size_t j = 0; m->columns[i].foreign_key && j < n; j++) {
            const alch_column *ref = alch__fk_ref(&m->columns[i], maps[j].model);
            if (ref) {
                mp->fks[k++] = (alch__fk_map){&m->columns[i], &maps[j], ref};
                break;
            }
        }
    mp->nfks = k;
}

static size_t count_fks(const alch_model *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->ncolumns; i++)
        n += m->columns[i].foreign_key != NULL;
    return n;
}

size_t alch__fks_to(const alch_model *owner, const alch__mapper *om, const alch_model *other,
                    const alch__mapper *tm, const alch_column **cols, const alch_column **refs,
                    size_t max)
{
    size_t found = 0;
    if (om && tm) {
        for (size_t i = 0; i < om->nfks; i++)
            if (om->fks[i].target == tm && found++ < max) {
                cols[found - 1] = om->fks[i].col;
                refs[found - 1] = om->fks[i].ref;
            }
        return found;
    }
    for (size_t i = 0; i < owner->ncolumns; i++) {
        const alch_column *ref = alch__fk_ref(&owner->columns[i], other);
        if (ref && found++ < max) {
            cols[found - 1] = &owner->columns[i];
            refs[found - 1] = ref;
        }
    }
    return found;
}

int alch__mappers_resolve(alch__mapper *maps, size_t n, alch_error *err)
{
    for (size_t i = 0; i < n; i++) {
        alch__mapper *mp = &maps[i];
        const alch_model *m = mp->model;
        mp->pk = alch__model_pk(m);
        mp->pk_index = (size_t)(mp->pk - m->columns);
        mp->pk_bit = 1ULL << (mp->pk_index & 63);
        mp->rels = NULL;
        mp->fks = NULL;
        size_t nfks = count_fks(m);
        if (m->nrelationships)
            mp->rels = calloc(m->nrelationships, sizeof *mp->rels);
        if (nfks)
            mp->fks = calloc(nfks, sizeof *mp->fks);
        if ((m->nrelationships && !mp->rels) || (nfks && !mp->fks)) {
            alch__mappers_release(maps, i + 1);
            return alch_error_set(err, ALCH_ENOMEM, "out of memory while checking the models");
        }
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < maps[i].model->nrelationships; k++)
            resolve_rel(&maps[i].rels[k], &maps[i], &maps[i].model->relationships[k], maps, n);
        resolve_fks(&maps[i], maps, n);
    }
    return 0;
}

void alch__mappers_release(alch__mapper *maps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(maps[i].rels);
        free(maps[i].fks);
        maps[i].rels = NULL;
        maps[i].fks = NULL;
    }
}

const alch__rel_map *alch__mapper_rel(const alch__mapper *map, const char *name, alch_error *err)
{
    const alch_model *m = map->model;
    for (size_t i = 0; i < m->nrelationships; i++)
        if (strcmp(m->relationships[i].name, name) == 0)
            return &map->rels[i];
    alch_error_set(err, ALCH_EARGUMENT, "model %s has no relationship named '%s'", m->name, name);
    if (m->nrelationships)
        alch_error_hint(err, "its relationships: %s%s", m->relationships[0].name,
                        m->nrelationships > 1 ? ", ..." : "");
    return NULL;
}
