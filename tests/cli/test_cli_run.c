/* `voxcart run` as a technician or systemd runs it: the scripted
 * conversation when there is no microphone; the live loop's readiness,
 * reload and stop as systemd sees them (NOTIFY_SOCKET), with an ALSA file
 * device for a microphone; and a microphone that cannot be opened, which
 * must give a clear log line and retries that back off, not a crash or a
 * spin. Each case runs the real binary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../alsa_fixture.h"
#include "../test_util.h"

#define VOXCART VC_TEST_BINARY_DIR "/src/cli/voxcart"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = calloc(1, 1 << 20);
    size_t n = 0;

    assert_non_null(buf);
    if (f) {
        n = fread(buf, 1, (1 << 20) - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
    return buf;
}

/* Starts voxcart with args (NULL-terminated), stdout and stderr to log,
 * stdin from /dev/null, extra environment settings env[] ("K=V"). */
static pid_t start(const char *log, const char *const *env, const char *const *args)
{
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600), in = open("/dev/null", O_RDONLY);
        const char *argv[32] = {VOXCART};
        size_t n = 1;
        if (fd < 0 || in < 0)
            _exit(127);
        dup2(fd, 1);
        dup2(fd, 2);
        dup2(in, 0);
        for (; env && *env; env++)
            putenv((char *)*env);
        for (; *args && n < 31; args++)
            argv[n++] = *args;
        argv[n] = NULL;
        execv(VOXCART, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

/* Waits up to seconds for pid; its exit status, or -1 when it did not end
 * (it is then killed). */
static int wait_exit(pid_t pid, double seconds)
{
    double until = now() + seconds;
    int st;

    while (now() < until) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        vc_test_nap_ms(20);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* ---- no microphone: the scripted conversation ------------------------------ */

static void without_a_microphone_run_plays_the_scripted_conversation_and_records_it(void **state)
{
    vc_test_dir *d = vc_test_dir_new("vc-run-script", "");
    char log[4300], wavs[4300], store[4300], path[4400], cfgarg[4400];
    const char *env[] = {"VOXCART_CONFIG=/dev/null", NULL};
    pid_t pid;
    char *out;
    size_t orders = 0, completed = 0;

    (void)state;
    assert_non_null(d);
    snprintf(log, sizeof log, "%s/log", d->path);
    snprintf(wavs, sizeof wavs, "%s/wavs", d->path);
    snprintf(store, sizeof store, "%s/store.db", d->path);
    snprintf(cfgarg, sizeof cfgarg, "%s", store);
    {
        const char *args[] = {"run", "--json", "--device", "no-such-microphone", "--store",
                              cfgarg, "--wav-dir", wavs, NULL};
        pid = start(log, env, args);
    }
    assert_int_equal(wait_exit(pid, 120), 0);
    out = slurp(log);
    assert_non_null(strstr(out, "no microphone"));
    /* one JSON event a line: the reorder is confirmed and placed */
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *ev = line[0] == '{' ? cJSON_Parse(line) : NULL;
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "event");
        if (cJSON_IsString(type) && strcmp(type->valuestring, "order") == 0)
            orders++;
        if (cJSON_IsString(type) && strcmp(type->valuestring, "end") == 0 &&
            strcmp(cJSON_GetObjectItemCaseSensitive(ev, "outcome")->valuestring, "completed") ==
                0)
            completed++;
        cJSON_Delete(ev);
    }
    assert_int_equal(orders, 1);
    assert_true(completed >= 1);
    free(out);
    /* both sides recorded, and the timeline the latency harness reads */
    snprintf(path, sizeof path, "%s/input.wav", wavs);
    assert_int_equal(access(path, R_OK), 0);
    snprintf(path, sizeof path, "%s/output.wav", wavs);
    assert_int_equal(access(path, R_OK), 0);
    snprintf(path, sizeof path, "%s/timeline.json", wavs);
    out = slurp(path);
    {
        cJSON *tl = cJSON_Parse(out);
        assert_non_null(tl);
        assert_true(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(tl, "turns")) >= 4);
        assert_true(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(tl, "outputs")) >= 3);
        cJSON_Delete(tl);
    }
    free(out);
    vc_test_dir_free(d);
}

/* ---- the live loop under systemd ---------------------------------------- */

typedef struct {
    int fd;
    char path[4300];
    char got[8192];
} notify_socket;

static void notify_open(notify_socket *n, const char *dir)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};

    memset(n, 0, sizeof *n);
    snprintf(n->path, sizeof n->path, "%s/notify", dir);
    assert_true(strlen(n->path) < sizeof a.sun_path);
    snprintf(a.sun_path, sizeof a.sun_path, "%s", n->path);
    n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    assert_true(n->fd >= 0);
    assert_int_equal(bind(n->fd, (struct sockaddr *)&a, sizeof a), 0);
}

/* Reads datagrams for up to seconds, until one contains want. */
static int notify_wait(notify_socket *n, const char *want, double seconds)
{
    double until = now() + seconds;
    char buf[1024];

    while (now() < until) {
        ssize_t k = recv(n->fd, buf, sizeof buf - 1, 0);
        if (k > 0) {
            buf[k] = '\0';
            strncat(n->got, buf, sizeof n->got - strlen(n->got) - 2);
            strcat(n->got, "\n");
            if (strstr(buf, want))
                return 1;
        } else {
            vc_test_nap_ms(20);
        }
    }
    return 0;
}

static void the_live_loop_tells_systemd_it_is_ready_reloads_on_sighup_and_stops_on_sigterm(
    void **state)
{
    vc_test_dir *d = vc_test_dir_new("vc-run-live", "");
    char log[4300], conf[4300], alsa[4300], raw[4300], store[4300], env_notify[4400],
        env_alsa[8500], env_config[4400];
    notify_socket n;
    FILE *f;
    int16_t quiet[16000] = {0};
    pid_t pid;
    char *out;

    (void)state;
    assert_non_null(d);
    snprintf(log, sizeof log, "%s/log", d->path);
    snprintf(raw, sizeof raw, "%s/in.raw", d->path);
    snprintf(alsa, sizeof alsa, "%s/alsa.conf", d->path);
    snprintf(conf, sizeof conf, "%s/voxcart.conf", d->path);
    snprintf(store, sizeof store, "%s/store.db", d->path);
    assert_int_equal(vc_test_write_raw(raw, quiet, 16000), 0);
    assert_non_null(f = fopen(alsa, "w"));
    vc_test_alsa_capture_pcm(f, "voxcart_mic", raw);
    vc_test_alsa_playback_pcm(f, "voxcart_speaker", "/dev/null");
    assert_int_equal(fclose(f), 0);
    assert_non_null(f = fopen(conf, "w"));
    fprintf(f, "[audio]\ninput_device = voxcart_mic\noutput_device = voxcart_speaker\n"
               "trigger = wake_word\n");
    assert_int_equal(fclose(f), 0);
    notify_open(&n, d->path);
    snprintf(env_notify, sizeof env_notify, "NOTIFY_SOCKET=%s", n.path);
    snprintf(env_alsa, sizeof env_alsa, "ALSA_CONFIG_PATH=/usr/share/alsa/alsa.conf:%s", alsa);
    snprintf(env_config, sizeof env_config, "VOXCART_CONFIG=%s", conf);
    {
        const char *env[] = {env_notify, env_alsa, env_config, "VOXCART_LOG=info", NULL};
        const char *args[] = {"run", "--live", "--store", store, NULL};
        pid = start(log, env, args);
    }
    if (!notify_wait(&n, "READY=1", 60)) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        fail_msg("no READY=1 from voxcart run; its log:\n%s", out = slurp(log));
    }
    assert_non_null(strstr(n.got, "STATUS=waiting for the wake word"));
    kill(pid, SIGHUP);
    assert_true(notify_wait(&n, "RELOADING=1", 10));
    assert_true(notify_wait(&n, "READY=1", 60));
    kill(pid, SIGTERM);
    assert_true(notify_wait(&n, "STOPPING=1", 10));
    assert_int_equal(wait_exit(pid, 10), 0);
    out = slurp(log);
    if (!strstr(out, "reloading"))
        fail_msg("no reload in the log:\n%s", out);
    free(out);
    close(n.fd);
    vc_test_dir_free(d);
}

/* A microphone that is not there: a log line naming it, retries 1 s, 2 s,
 * 4 s apart (not a spin), and SIGTERM still ends it at once. */
static void an_unopenable_microphone_is_retried_with_a_growing_pause_not_a_spin(void **state)
{
    vc_test_dir *d = vc_test_dir_new("vc-run-nomic", "");
    char log[4300], store[4300];
    const char *env[] = {"VOXCART_CONFIG=/dev/null", "VOXCART_LOG=warn", NULL};
    pid_t pid;
    char *out;
    double t0;
    size_t tries;

    (void)state;
    assert_non_null(d);
    snprintf(log, sizeof log, "%s/log", d->path);
    snprintf(store, sizeof store, "%s/store.db", d->path);
    {
        const char *args[] = {"run", "--live", "--device", "no-such-microphone", "--store",
                              store, NULL};
        pid = start(log, env, args);
    }
    /* loading the pack and the models takes a moment; then 3.5 s of tries */
    t0 = now();
    for (out = slurp(log); !strstr(out, "no-such-microphone") && now() - t0 < 60;
         out = slurp(log)) {
        free(out);
        vc_test_nap_ms(50);
    }
    free(out);
    vc_test_nap_ms(3500);
    t0 = now();
    kill(pid, SIGTERM);
    assert_int_equal(wait_exit(pid, 5), 0);
    assert_true(now() - t0 < 2.0);
    out = slurp(log);
    tries = count(out, "the microphone (no-such-microphone)");
    /* at 0, 1 and 3 s: three tries, four at most with a slow start */
    assert_true(tries >= 2);
    assert_true(tries <= 4);
    if (!strstr(out, "retrying the audio devices in"))
        fail_msg("no retry in the log:\n%s", out);
    free(out);
    vc_test_dir_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(without_a_microphone_run_plays_the_scripted_conversation_and_records_it),
        cmocka_unit_test(
            the_live_loop_tells_systemd_it_is_ready_reloads_on_sighup_and_stops_on_sigterm),
        cmocka_unit_test(an_unopenable_microphone_is_retried_with_a_growing_pause_not_a_spin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
