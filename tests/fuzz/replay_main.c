/*
 * replay_main.c - a plain driver for the libFuzzer harnesses: runs every
 * file named on the command line (a directory: every file in it) through
 * LLVMFuzzerTestOneInput once. Built with the normal compiler (gcc), so
 * CTest replays the committed corpora without clang's fuzzer runtime; a
 * failed property aborts, so a regression is a non-zero exit.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap *= 2);
            if (!nb)
                free(buf);
            buf = nb;
        }
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "%s: out of memory\n", path);
        return 1;
    }
    /* an exact-size copy, so that ASan sees reads past the end */
    uint8_t *exact = malloc(n ? n : 1);
    memcpy(exact, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    int failed = 0, ran = 0;
    LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            DIR *d = opendir(argv[i]);
            char **names = NULL;
            size_t nn = 0;
            struct dirent *e;
            while (d && (e = readdir(d))) {
                if (e->d_name[0] == '.')
                    continue;
                names = realloc(names, (nn + 1) * sizeof *names);
                size_t len = strlen(argv[i]) + strlen(e->d_name) + 2;
                names[nn] = malloc(len);
                snprintf(names[nn++], len, "%s/%s", argv[i], e->d_name);
            }
            if (d)
                closedir(d);
            if (nn)
                qsort(names, nn, sizeof *names, cmp);
            for (size_t k = 0; k < nn; k++) {
                failed |= run_file(names[k]);
                ran++;
                free(names[k]);
            }
            free(names);
        } else {
            failed |= run_file(argv[i]);
            ran++;
        }
    }
    printf("replayed %d inputs\n", ran);
    return failed;
}
