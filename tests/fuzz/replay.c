/* The fuzz targets without libFuzzer: replay the files (or every file of
 * the directories) given as arguments through LLVMFuzzerTestOneInput, so
 * that the checked-in corpus runs in every `meson test`, under any
 * compiler.  A violated invariant aborts, as under the fuzzer. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t n = 0, cap = 0, got;
    if (!f) {
        perror(path);
        return 1;
    }
    do {
        if (n == cap) {
            unsigned char *b = realloc(buf, cap = cap ? cap * 2 : 4096);
            if (!b) {
                fclose(f);
                free(buf);
                return 1;
            }
            buf = b;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    fclose(f);
    /* a copy of exactly n bytes, so that ASan sees a read past the input */
    {
        unsigned char *exact = malloc(n ? n : 1);
        if (!exact) {
            free(buf);
            return 1;
        }
        memcpy(exact, buf, n);
        free(buf);
        LLVMFuzzerTestOneInput(exact, n);
        free(exact);
    }
    return 0;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    size_t files = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE-OR-DIRECTORY...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        struct stat sb;
        if (stat(argv[i], &sb) != 0) {
            perror(argv[i]);
            return 1;
        }
        if (S_ISDIR(sb.st_mode)) {
            DIR *d = opendir(argv[i]);
            struct dirent *e;
            char **names = NULL;
            size_t n = 0;
            if (!d) {
                perror(argv[i]);
                return 1;
            }
            while ((e = readdir(d)) != NULL) {
                char **nn;
                if (e->d_name[0] == '.')
                    continue;
                nn = realloc(names, (n + 1) * sizeof *names);
                if (!nn)
                    return 1;
                names = nn;
                names[n] = malloc(strlen(argv[i]) + strlen(e->d_name) + 2);
                if (!names[n])
                    return 1;
                sprintf(names[n], "%s/%s", argv[i], e->d_name);
                n++;
            }
            closedir(d);
            qsort(names, n, sizeof *names, cmp);
            for (size_t k = 0; k < n; k++) {
                if (run_file(names[k]))
                    return 1;
                files++;
                free(names[k]);
            }
            free(names);
        } else {
            if (run_file(argv[i]))
                return 1;
            files++;
        }
    }
    if (files == 0) {
        fprintf(stderr, "no input files: the corpus is missing\n");
        return 1;
    }
    printf("%zu inputs replayed, every invariant held\n", files);
    return 0;
}
