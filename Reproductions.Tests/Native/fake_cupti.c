/* A stand-in for libcupti's callback API, for CudaApiCounterTests: the three entry points the counter binds, with CUPTI's
 * calling convention and its callback data's layout (the call site, then the function's name), and test-only calls that play
 * the CUDA driver: each "driver call" runs the subscribed callback at its entry and its exit, as CUPTI does. Built by the test
 * with the machine's C compiler (cc -shared -fPIC ... -lpthread). */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

typedef void (*callback_fn)(void *userdata, int domain, uint32_t cbid, const void *data);

typedef struct {
    int callbackSite;          /* CUPTI_API_ENTER 0, CUPTI_API_EXIT 1 */
    const char *functionName;
    const void *functionParams;
    void *functionReturnValue;
    const char *symbolName;
    void *context;
    uint32_t contextUid;
    uint64_t *correlationData;
    uint32_t correlationId;
} callback_data;

static callback_fn subscribed = NULL;
static void *subscribed_userdata = NULL;
static int driver_domain_on = 0;
static int handle_token = 0;

int cuptiSubscribe(void **subscriber, callback_fn callback, void *userdata) {
    if (subscribed != NULL) return 39; /* CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED */
    subscribed = callback;
    subscribed_userdata = userdata;
    *subscriber = &handle_token;
    return 0;
}

int cuptiEnableDomain(uint32_t enable, void *subscriber, int domain) {
    if (subscriber != &handle_token || subscribed == NULL) return 1; /* CUPTI_ERROR_INVALID_PARAMETER */
    if (domain == 1) driver_domain_on = enable != 0;
    return 0;
}

int cuptiUnsubscribe(void *subscriber) {
    if (subscriber != &handle_token) return 1;
    subscribed = NULL;
    driver_domain_on = 0;
    return 0;
}

/* One driver API call: the callback at entry and at exit, in the driver domain (1), if subscribed and enabled. */
void fake_driver_call(uint32_t cbid, const char *name) {
    if (subscribed == NULL || !driver_domain_on) return;
    callback_data data = {0};
    data.functionName = name;
    data.callbackSite = 0;
    subscribed(subscribed_userdata, 1, cbid, &data);
    data.callbackSite = 1;
    subscribed(subscribed_userdata, 1, cbid, &data);
}

/* A call in another domain (the runtime API, 2): not a driver call. */
void fake_runtime_call(uint32_t cbid, const char *name) {
    if (subscribed == NULL) return;
    callback_data data = {0};
    data.functionName = name;
    subscribed(subscribed_userdata, 2, cbid, &data);
}

typedef struct { uint32_t cbid; const char *name; int times; } calls;

static void *call_repeatedly(void *arg) {
    calls *c = (calls *)arg;
    for (int i = 0; i < c->times; i++) fake_driver_call(c->cbid, c->name);
    return NULL;
}

/* The same call made `times` times on a thread of its own (as autograd's device thread launches a backward's kernels). */
void fake_driver_calls_on_thread(uint32_t cbid, const char *name, int times) {
    calls c = { cbid, name, times };
    pthread_t thread;
    if (pthread_create(&thread, NULL, call_repeatedly, &c) == 0) pthread_join(thread, NULL);
}
