/* patron — a record as one byte string, for stores that keep blobs.
 * SPDX-License-Identifier: MIT
 *
 * Layout: the magic "PTRN1\n", then items, each one tag byte:
 *   'F' id:u8 len:u32le bytes      a scalar field
 *   'A'                            start a new address
 *   'a' id:u8 len:u32le bytes      a field of the last address
 *   'T' len:u32le bytes            a tag
 *   'P' len:u32le key len:u32le val a property
 *   'Z'                            the end: a record cut short is refused
 * A NUL follows (not counted in the length).  Unknown field ids
 * (written by a newer library) are skipped when reading. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const char MAGIC[] = "PTRN1\n";

static void put_u32(patron_strbuf *sb, size_t v)
{
    char b[4] = { (char)(v & 0xFF), (char)((v >> 8) & 0xFF), (char)((v >> 16) & 0xFF),
                  (char)((v >> 24) & 0xFF) };
    patron__sb_putn(sb, b, 4);
}

static void put_str(patron_strbuf *sb, const char *s)
{
    size_t n = strlen(s);
    put_u32(sb, n);
    patron__sb_putn(sb, s, n);
}

patron_status patron_record_pack(char **out, size_t *len_out, const patron_customer *c)
{
    patron_strbuf sb;
    if (!out || !c)
        return PATRON_E_INVALID;
    *out = NULL;
    patron__sb_init(&sb);
    patron__sb_puts(&sb, MAGIC);
    for (int f = 1; f < PATRON_F__END; f++) {
        if (!c->f[f])
            continue;
        patron__sb_putc(&sb, 'F');
        patron__sb_putc(&sb, (char)f);
        put_str(&sb, c->f[f]);
    }
    for (size_t i = 0; i < c->n_addr; i++) {
        patron__sb_putc(&sb, 'A');
        for (int f = 1; f < PATRON_A__END; f++) {
            if (!c->addr[i].f[f])
                continue;
            patron__sb_putc(&sb, 'a');
            patron__sb_putc(&sb, (char)f);
            put_str(&sb, c->addr[i].f[f]);
        }
    }
    for (size_t i = 0; i < c->n_tags; i++) {
        patron__sb_putc(&sb, 'T');
        put_str(&sb, c->tags[i]);
    }
    for (size_t i = 0; i < c->n_props; i++) {
        patron__sb_putc(&sb, 'P');
        put_str(&sb, c->prop_k[i]);
        put_str(&sb, c->prop_v[i]);
    }
    patron__sb_putc(&sb, 'Z');
    *out = patron__sb_detach(&sb, len_out);
    return *out ? PATRON_OK : PATRON_E_NOMEM;
}

typedef struct reader {
    const unsigned char *p, *end;
} reader;

static bool get_str(reader *r, char **s)
{
    size_t n;
    if (r->end - r->p < 4)
        return false;
    n = (size_t)r->p[0] | (size_t)r->p[1] << 8 | (size_t)r->p[2] << 16 | (size_t)r->p[3] << 24;
    r->p += 4;
    if ((size_t)(r->end - r->p) < n || memchr(r->p, '\0', n))
        return false;
    *s = patron__strndup((const char *)r->p, n);
    r->p += n;
    return true;
}

patron_status patron_record_unpack(patron_customer *c, const char *data, size_t len)
{
    patron_customer tmp;
    reader r;
    char *s = NULL, *v = NULL;
    patron_status st = PATRON_E_INVALID;
    if (!c)
        return PATRON_E_INVALID;
    if (!data)
        return patron__cust_error(c, PATRON_E_INVALID, "no packed record given (NULL)");
    if (len < sizeof MAGIC - 1 || memcmp(data, MAGIC, sizeof MAGIC - 1) != 0)
        return patron__cust_error(c, PATRON_E_INVALID, "not a packed patron record");
    memset(&tmp, 0, sizeof tmp);
    r.p = (const unsigned char *)data + sizeof MAGIC - 1;
    r.end = (const unsigned char *)data + len;
    for (;;) {
        unsigned char tag;
        int id = 0;
        if (r.p >= r.end)
            goto bad; /* no end mark: cut short */
        tag = *r.p++;
        if (tag == 'Z') {
            if (r.p != r.end)
                goto bad;
            break;
        }
        if (tag == 'F' || tag == 'a') {
            if (r.p >= r.end)
                goto bad;
            id = *r.p++;
        }
        if (tag == 'A') {
            size_t idx;
            if (patron_customer_address_add(&tmp, &idx))
                goto oom;
            /* the defaults of address_add are not part of the packed data */
            patron__free(tmp.addr[idx].f[PATRON_A_COUNTRY]);
            patron__free(tmp.addr[idx].f[PATRON_A_BILLING]);
            tmp.addr[idx].f[PATRON_A_COUNTRY] = tmp.addr[idx].f[PATRON_A_BILLING] = NULL;
            tmp.addr[idx].ok = 0; /* the values below are not checked */
            continue;
        }
        if (tag != 'F' && tag != 'a' && tag != 'T' && tag != 'P')
            goto bad;
        if (!get_str(&r, &s))
            goto bad;
        if (!s)
            goto oom;
        if (tag == 'P') {
            if (!get_str(&r, &v))
                goto bad;
            if (!v)
                goto oom;
        }
        switch (tag) {
        case 'F':
            /* the checks of patron_record_set(): the two ways a store
             * fills a record accept the same values */
            if (id > 0 && id < PATRON_F__END) {
                if (patron_record_set(&tmp, id, s) != PATRON_OK)
                    goto refused;
            }
            break;
        case 'a':
            if (tmp.n_addr == 0)
                goto bad;
            if (id > 0 && id < PATRON_A__END) {
                patron__address *a = &tmp.addr[tmp.n_addr - 1];
                const patron__field_info *fi = patron__address_field(id);
                size_t n = strlen(s);
                if (fi && n > fi->max_len) {
                    patron__cust_error(&tmp, PATRON_E_INVALID, "address %s is too long (%zu bytes)",
                                       fi->name, n);
                    goto refused;
                }
                if (fi && patron__utf8_check(s, n)) {
                    patron__cust_error(&tmp, PATRON_E_INVALID, "address %s is not valid UTF-8", fi->name);
                    goto refused;
                }
                patron__free(a->f[id]);
                a->f[id] = s;
                a->ok &= ~(UINT32_C(1) << id); /* not checked */
                s = NULL;
            }
            break;
        case 'T':
            if (patron_customer_tag_add(&tmp, s))
                goto oom;
            break;
        case 'P':
            if (patron_customer_prop_set(&tmp, s, v))
                goto oom;
            break;
        }
        patron__free(s);
        patron__free(v);
        s = v = NULL;
    }
    patron__cust_move(c, &tmp);
    return PATRON_OK;
oom:
    st = tmp.errmsg[0] && strcmp(tmp.errmsg, "out of memory") != 0 ? PATRON_E_INVALID : PATRON_E_NOMEM;
    if (st == PATRON_E_INVALID)
        goto refused;
bad:
    patron__free(s);
    patron__free(v);
    patron__cust_clear(&tmp);
    return patron__cust_error(c, st, st == PATRON_E_NOMEM ? "out of memory"
                                                          : "packed patron record is damaged");
refused: /* well-formed, but a value patron_record_set() and the setters refuse */
    {
        char why[sizeof tmp.errmsg];
        st = strcmp(tmp.errmsg, "out of memory") == 0 ? PATRON_E_NOMEM : PATRON_E_INVALID;
        snprintf(why, sizeof why, "%s", tmp.errmsg);
        patron__free(s);
        patron__free(v);
        patron__cust_clear(&tmp);
        if (st == PATRON_E_NOMEM)
            return patron__cust_error(c, st, "out of memory");
        return patron__cust_error(c, st, "packed patron record: %s", why);
    }
}
