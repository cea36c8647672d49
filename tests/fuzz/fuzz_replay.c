/*
 * A main() for a libFuzzer harness built without libFuzzer: runs each file
 * named (or each file in each directory named, in name order) through
 * LLVMFuzzerTestOneInput once.  The regression inputs and the seed corpus
 * replay this way in every build (ctest fuzz.*.replay), the sanitizer
 * build included, and under coverage instrumentation for the figures
 * (tests/fuzz/README.md).
 *
 * An input that takes more than REPLAY_CPU_SECONDS of CPU time is a hang,
 * as libFuzzer's -timeout would call it; counting CPU time rather than
 * the wall clock keeps the verdict the same on a loaded machine.
 */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The harness bounds an input's accesses (fuzz_machine.c MAX_ACCESSES), so
 * every input takes well under a second, ASan or not; a device loop that
 * runs away takes far longer. */
#define REPLAY_CPU_SECONDS 3

static const char *current_input;

static void on_cpu_limit(int sig)
{
    static const char msg[] = "fuzz-replay: over the CPU time limit: a hang in ";
    (void)!write(2, msg, sizeof(msg) - 1);
    (void)!write(2, current_input, strlen(current_input));
    (void)!write(2, "\n", 1);
    _exit(1);
}

/* Arm (or with 0, disarm) the CPU-time limit for one input. */
static void cpu_limit(int seconds)
{
    struct itimerval t = {{0, 0}, {seconds, 0}};
    setitimer(ITIMER_PROF, &t, NULL);
}

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "fuzz-replay: cannot open '%s'\n", path);
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            uint8_t *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "fuzz-replay: '%s': out of memory\n", path);
        return -1;
    }
    fprintf(stderr, "fuzz-replay: %s (%zu bytes)\n", path, len);
    current_input = path;
    cpu_limit(REPLAY_CPU_SECONDS);
    LLVMFuzzerTestOneInput(buf, len);
    cpu_limit(0);
    free(buf);
    return 0;
}

static int name_order(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "fuzz-replay: cannot open directory '%s'\n", dir);
        return -1;
    }
    char **names = NULL;
    size_t count = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char **more = realloc(names, (count + 1) * sizeof(*names));
        if (!more) {
            break;
        }
        names = more;
        names[count++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, count, sizeof(*names), name_order);
    int replayed = 0;
    for (size_t i = 0; i < count; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        struct stat st;
        if (names[i] && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (replay_file(path) < 0) {
                replayed = -1;
            } else if (replayed >= 0) {
                replayed++;
            }
        }
        free(names[i]);
    }
    free(names);
    return replayed;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    signal(SIGPROF, on_cpu_limit);
    int total = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "fuzz-replay: cannot open '%s'\n", argv[i]);
            return 1;
        }
        int n = S_ISDIR(st.st_mode) ? replay_dir(argv[i]) : replay_file(argv[i]);
        if (n < 0) {
            return 1;
        }
        total += S_ISDIR(st.st_mode) ? n : 1;
    }
    fprintf(stderr, "fuzz-replay: %d inputs, no crash\n", total);
    return 0;
}
