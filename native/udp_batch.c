/*
 * Batched datagram I/O for the UDP proxy (Linux): recvmmsg/sendmmsg on non-blocking sockets, polled
 * through Node's own libuv loop. node:dgram pays one system call and one JavaScript callback per
 * datagram; here one readable event delivers up to BATCH datagrams in one callback and one call sends
 * a whole queue. The JavaScript side (src/proxy/udp/batch-socket.ts) owns sessions and impairments;
 * this file only moves bytes.
 */
#define NAPI_VERSION 8
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define BATCH 64
/* Larger than any UDP payload (65,507 bytes over IPv4, 65,527 over IPv6), so nothing is truncated. */
#define SLOT 65536
/* Readable events read at most this many batches before yielding to the rest of the event loop. */
#define ROUNDS 16
/* Per datagram in the meta array: length, port, family (4 or 6), then the address as four words. */
#define META 7

/* Datagrams looked at per sendmmsg call. */
#define SEND_CHUNK 256
/* A GSO run: at most this many segments (the kernel's UDP_MAX_SEGMENTS) and bytes in one send. */
#define GSO_SEGMENTS 64
#define GSO_BYTES 65000

typedef struct {
  struct mmsghdr msgs[SEND_CHUNK];
  struct iovec iov[SEND_CHUNK];
  uint32_t datagrams[SEND_CHUNK]; /* how many datagrams each message carries */
  uint16_t segment[SEND_CHUNK];   /* its datagrams' size: the GSO segment size when more than one */
  char control[SEND_CHUNK][CMSG_SPACE(sizeof(uint16_t))];
} outgoing_t;

/* Receive buffers and outgoing messages, shared by every socket of one Node environment (one thread,
 * and callbacks never overlap). */
typedef struct {
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  struct sockaddr_storage from[BATCH];
  char *slab;
  napi_ref meta;
  outgoing_t outgoing;
} scratch_t;

typedef struct {
  napi_env env;
  uv_poll_t poll;
  int fd;
  int polling;
  int closed;     /* close() was called: the fd is gone or going */
  int released;   /* libuv has let go of the poll handle (or never had it) */
  int finalized;  /* the JavaScript handle was collected */
  int no_gso;     /* the kernel refused a GSO send on this socket */
  int delivering; /* inside the JavaScript callback (which may close the socket) */
  napi_ref callback;
  napi_async_context async;
} sock_t;

#define CHECK(call)                                                                                \
  do {                                                                                             \
    if ((call) != napi_ok) return NULL;                                                            \
  } while (0)

static napi_value throw_errno(napi_env env, int err, const char *syscall) {
  napi_value message, code, error;
  char text[160];
  snprintf(text, sizeof text, "%s %s: %s", syscall, uv_err_name(-err), strerror(err));
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message);
  napi_create_string_utf8(env, uv_err_name(-err), NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, message, &error);
  napi_value errno_value, syscall_value;
  napi_create_int32(env, -err, &errno_value);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_value);
  napi_set_named_property(env, error, "errno", errno_value);
  napi_set_named_property(env, error, "syscall", syscall_value);
  napi_throw(env, error);
  return NULL;
}

static napi_value throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

static scratch_t *scratch_of(napi_env env) {
  scratch_t *scratch = NULL;
  napi_get_instance_data(env, (void **)&scratch);
  return scratch;
}

static void free_scratch(napi_env env, void *data, void *hint) {
  (void)hint;
  scratch_t *scratch = data;
  if (scratch->meta != NULL) napi_delete_reference(env, scratch->meta);
  free(scratch->slab);
  free(scratch);
}

/*
 * The callback (a closure over the JavaScript socket object, which holds this handle) is a strong
 * reference: it must go when the socket closes, or a closed socket could never be collected.
 */
static void release_callback(sock_t *s) {
  if (s->callback != NULL) napi_delete_reference(s->env, s->callback);
  if (s->async != NULL) napi_async_destroy(s->env, s->async);
  s->callback = NULL;
  s->async = NULL;
}

static void free_sock(sock_t *s) {
  release_callback(s);
  free(s);
}

static void on_poll_closed(uv_handle_t *handle) {
  sock_t *s = handle->data;
  s->released = 1;
  if (s->finalized) free_sock(s);
}

/*
 * Stops polling and closes the descriptor at once, so its port is free when close() returns. uv_close
 * takes the descriptor out of the loop's epoll set before it returns and never touches it again; only
 * the handle's memory waits for the close callback.
 */
static void close_sock(sock_t *s) {
  if (s->closed) return;
  s->closed = 1;
  if (s->polling) uv_close((uv_handle_t *)&s->poll, on_poll_closed);
  close(s->fd);
}

static void finalize_sock(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  sock_t *s = data;
  s->finalized = 1;
  close_sock(s);
  if (s->released) free_sock(s);
}

static sock_t *sock_of(napi_env env, napi_value value) {
  sock_t *s = NULL;
  if (napi_get_value_external(env, value, (void **)&s) != napi_ok || s == NULL) {
    throw_type(env, "expected a socket handle");
    return NULL;
  }
  if (s->closed) {
    napi_throw_error(env, "ERR_SOCKET_DGRAM_NOT_RUNNING", "socket is closed");
    return NULL;
  }
  return s;
}

/* Parses an IP literal and port into `out`; returns its length, or 0 (with an exception) if invalid. */
static socklen_t parse_address(napi_env env, napi_value host_value, napi_value port_value,
                               struct sockaddr_storage *out) {
  char host[64];
  size_t length = 0;
  uint32_t port = 0;
  if (napi_get_value_string_utf8(env, host_value, host, sizeof host, &length) != napi_ok ||
      napi_get_value_uint32(env, port_value, &port) != napi_ok || port > 65535) {
    throw_type(env, "expected an IP address and a port");
    return 0;
  }
  memset(out, 0, sizeof *out);
  struct sockaddr_in *v4 = (struct sockaddr_in *)out;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
  if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    return sizeof *v4;
  }
  if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
    return sizeof *v6;
  }
  throw_type(env, "expected an IP address literal");
  return 0;
}

/* open(family 4|6, host, port, recvBufferBytes, sendBufferBytes) → handle; throws with .code on error. */
static napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t family = 0, recv_bytes = 0, send_bytes = 0;
  if (argc < 5 || napi_get_value_int32(env, argv[0], &family) != napi_ok ||
      napi_get_value_int32(env, argv[3], &recv_bytes) != napi_ok ||
      napi_get_value_int32(env, argv[4], &send_bytes) != napi_ok)
    return throw_type(env, "open(family, host, port, recvBufferBytes, sendBufferBytes)");
  struct sockaddr_storage address;
  socklen_t address_length = parse_address(env, argv[1], argv[2], &address);
  if (address_length == 0) return NULL;
  if ((family == 4) != (address.ss_family == AF_INET))
    return throw_type(env, "the address does not match the socket family");
  int fd = socket(address.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket");
  if (recv_bytes > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &recv_bytes, sizeof recv_bytes);
  if (send_bytes > 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &send_bytes, sizeof send_bytes);
  if (bind(fd, (struct sockaddr *)&address, address_length) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "bind");
  }
  sock_t *s = calloc(1, sizeof *s);
  if (s == NULL) {
    close(fd);
    return throw_errno(env, ENOMEM, "open");
  }
  s->env = env;
  s->fd = fd;
  s->released = 1; /* no libuv handle yet */
  napi_value handle;
  if (napi_create_external(env, s, finalize_sock, NULL, &handle) != napi_ok) {
    close(fd);
    free(s);
    return NULL;
  }
  return handle;
}

/* connect(handle, host, port): only datagrams from there are received; send() needs no address. */
static napi_value Connect(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = sock_of(env, argv[0]);
  if (s == NULL) return NULL;
  struct sockaddr_storage address;
  socklen_t length = parse_address(env, argv[1], argv[2], &address);
  if (length == 0) return NULL;
  if (connect(s->fd, (struct sockaddr *)&address, length) != 0) return throw_errno(env, errno, "connect");
  return NULL;
}

static void address_words(const struct sockaddr_storage *address, uint32_t *out) {
  if (address->ss_family == AF_INET) {
    const struct sockaddr_in *v4 = (const struct sockaddr_in *)address;
    out[0] = ntohs(v4->sin_port);
    out[1] = 4;
    out[2] = ntohl(v4->sin_addr.s_addr);
    out[3] = out[4] = out[5] = 0;
  } else {
    const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)address;
    out[0] = ntohs(v6->sin6_port);
    out[1] = 6;
    memcpy(&out[2], &v6->sin6_addr, 16);
  }
}

/* format(family, w0, w1, w2, w3) → the address as text (the meta words of one datagram). */
static napi_value Format(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint32_t words[5] = {0};
  for (size_t i = 0; i < 5 && i < argc; i++) napi_get_value_uint32(env, argv[i], &words[i]);
  char text[INET6_ADDRSTRLEN];
  if (words[0] == 4) {
    struct in_addr v4 = {.s_addr = htonl(words[1])};
    inet_ntop(AF_INET, &v4, text, sizeof text);
  } else {
    struct in6_addr v6;
    memcpy(&v6, &words[1], 16);
    inet_ntop(AF_INET6, &v6, text, sizeof text);
  }
  napi_value result;
  CHECK(napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &result));
  return result;
}

/* local(handle) → [port, family, w0, w1, w2, w3]: where the socket is bound (as in the meta array). */
static napi_value Local(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = sock_of(env, argv[0]);
  if (s == NULL) return NULL;
  struct sockaddr_storage address;
  socklen_t length = sizeof address;
  if (getsockname(s->fd, (struct sockaddr *)&address, &length) != 0)
    return throw_errno(env, errno, "getsockname");
  uint32_t words[6];
  address_words(&address, words);
  napi_value result, item;
  CHECK(napi_create_array_with_length(env, 6, &result));
  for (uint32_t i = 0; i < 6; i++) {
    CHECK(napi_create_uint32(env, words[i], &item));
    CHECK(napi_set_element(env, result, i, item));
  }
  return result;
}

/* Hands one received batch to JavaScript: callback(data, count), lengths and sources in the meta array. */
static int deliver(sock_t *s, scratch_t *scratch, int count) {
  napi_env env = s->env;
  napi_value meta_value, meta_buffer, callback, argv[2], global;
  void *meta_data = NULL;
  size_t meta_length = 0, meta_offset = 0;
  napi_typedarray_type meta_type;
  if (napi_get_reference_value(env, scratch->meta, &meta_value) != napi_ok ||
      napi_get_typedarray_info(env, meta_value, &meta_type, &meta_length, &meta_data, &meta_buffer,
                               &meta_offset) != napi_ok ||
      meta_type != napi_uint32_array || meta_length < (size_t)BATCH * META)
    return -1;
  uint32_t *meta = meta_data;
  size_t total = 0;
  for (int i = 0; i < count; i++) total += scratch->msgs[i].msg_len;
  char *data = NULL;
  if (napi_create_buffer(env, total > 0 ? total : 1, (void **)&data, &argv[0]) != napi_ok) return -1;
  size_t offset = 0;
  for (int i = 0; i < count; i++) {
    uint32_t length = scratch->msgs[i].msg_len;
    memcpy(data + offset, scratch->slab + (size_t)i * SLOT, length);
    offset += length;
    meta[i * META] = length;
    address_words(&scratch->from[i], &meta[i * META + 1]);
  }
  napi_create_int32(env, count, &argv[1]);
  napi_get_reference_value(env, s->callback, &callback);
  napi_get_global(env, &global);
  napi_status status = napi_make_callback(env, s->async, global, callback, 2, argv, NULL);
  if (status == napi_pending_exception) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error); /* to process 'uncaughtException', as a throwing listener would */
    return -1;
  }
  return status == napi_ok ? 0 : -1;
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  (void)events;
  sock_t *s = handle->data;
  if (s->closed) return;
  if (status < 0) {
    uv_poll_stop(handle); /* the descriptor is broken; nothing more will arrive */
    return;
  }
  scratch_t *scratch = scratch_of(s->env);
  napi_handle_scope scope;
  if (napi_open_handle_scope(s->env, &scope) != napi_ok) return;
  for (int round = 0; round < ROUNDS && !s->closed; round++) {
    for (int i = 0; i < BATCH; i++) {
      scratch->msgs[i].msg_hdr.msg_namelen = sizeof scratch->from[i];
      scratch->msgs[i].msg_len = 0;
    }
    int count = recvmmsg(s->fd, scratch->msgs, BATCH, MSG_DONTWAIT, NULL);
    if (count < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      continue; /* e.g. ECONNREFUSED reported by ICMP on a connected socket: read on */
    }
    if (count == 0) break;
    s->delivering = 1;
    int failed = deliver(s, scratch, count);
    s->delivering = 0;
    if (failed || count < BATCH) break;
  }
  if (s->closed) release_callback(s);
  napi_close_handle_scope(s->env, scope);
}

/* receive(handle, callback, meta): starts polling; callback(data, count) per batch. */
static napi_value Receive(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = sock_of(env, argv[0]);
  if (s == NULL) return NULL;
  napi_valuetype type;
  if (argc < 2 || napi_typeof(env, argv[1], &type) != napi_ok || type != napi_function)
    return throw_type(env, "receive(handle, callback)");
  if (s->polling) return throw_type(env, "the socket is already receiving");
  scratch_t *scratch = scratch_of(env);
  if (scratch == NULL || scratch->meta == NULL) return throw_type(env, "setMeta() must come first");
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  napi_value name;
  CHECK(napi_create_string_utf8(env, "faultline:udp", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, NULL, name, &s->async));
  CHECK(napi_create_reference(env, argv[1], 1, &s->callback));
  int err = uv_poll_init(loop, &s->poll, s->fd);
  if (err != 0) return throw_errno(env, -err, "uv_poll_init");
  s->poll.data = s;
  s->polling = 1;
  s->released = 0;
  uv_poll_start(&s->poll, UV_READABLE, on_readable);
  return NULL;
}


/*
 * Fills `out` with messages for datagrams [from, count): consecutive datagrams to the same place
 * and of the same size (the last may be shorter) share one message with UDP GSO (UDP_SEGMENT), so the
 * kernel walks its stack once per run instead of once per datagram; the receiver still gets each
 * datagram on its own. Returns the number of messages, or -1 with an exception.
 */
static int fill_outgoing(napi_env env, outgoing_t *out, napi_value datagrams, napi_value destinations,
                         uint32_t from, uint32_t count, int gso) {
  int messages = 0;
  uint32_t iovs = 0;
  size_t run_bytes = 0;
  int run_open = 0;
  for (uint32_t i = from; i < count && iovs < SEND_CHUNK; i++) {
    napi_value item;
    void *data, *address = NULL;
    size_t length, address_length = 0;
    if (napi_get_element(env, datagrams, i, &item) != napi_ok ||
        napi_get_buffer_info(env, item, &data, &length) != napi_ok) {
      throw_type(env, "datagrams must be Buffers");
      return -1;
    }
    if (destinations != NULL && (napi_get_element(env, destinations, i, &item) != napi_ok ||
                                 napi_get_buffer_info(env, item, &address, &address_length) != napi_ok)) {
      throw_type(env, "destinations must come from address()");
      return -1;
    }
    struct iovec *iov = &out->iov[iovs++];
    iov->iov_base = data;
    iov->iov_len = length;
    struct msghdr *open = messages > 0 ? &out->msgs[messages - 1].msg_hdr : NULL;
    if (run_open && open->msg_name == address && length <= out->segment[messages - 1] &&
        out->datagrams[messages - 1] < GSO_SEGMENTS && run_bytes + length <= GSO_BYTES) {
      open->msg_iovlen++;
      out->datagrams[messages - 1]++;
      run_bytes += length;
      run_open = length == out->segment[messages - 1]; /* a shorter datagram ends the run */
      continue;
    }
    struct mmsghdr *message = &out->msgs[messages];
    memset(message, 0, sizeof *message);
    message->msg_hdr.msg_iov = iov;
    message->msg_hdr.msg_iovlen = 1;
    message->msg_hdr.msg_name = address;
    message->msg_hdr.msg_namelen = (socklen_t)address_length;
    out->datagrams[messages] = 1;
    out->segment[messages] = (uint16_t)length;
    run_bytes = length;
    run_open = gso && length > 0 && length <= GSO_BYTES / 2;
    messages++;
  }
  for (int m = 0; m < messages; m++) {
    struct msghdr *header = &out->msgs[m].msg_hdr;
    if (out->datagrams[m] == 1) continue;
    header->msg_control = out->control[m];
    header->msg_controllen = sizeof out->control[m];
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(header);
    cmsg->cmsg_level = SOL_UDP;
    cmsg->cmsg_type = UDP_SEGMENT;
    cmsg->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    memcpy(CMSG_DATA(cmsg), &out->segment[m], sizeof(uint16_t));
  }
  return messages;
}

/*
 * send(handle, datagrams, count, destinations | null) → how many were taken. Stops early only when the
 * socket's send buffer is full (EAGAIN/ENOBUFS), so the caller keeps the rest. A datagram the kernel
 * refuses for another reason (say ECONNREFUSED after an ICMP error) is taken and lost, as with
 * node:dgram. Where GSO is refused (a route whose MTU a segment exceeds, a kernel without it), the
 * socket sends one datagram per message from then on.
 */
static napi_value Send(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = sock_of(env, argv[0]);
  if (s == NULL) return NULL;
  uint32_t count = 0;
  napi_valuetype destinations_type = napi_null;
  if (argc < 4 || napi_get_value_uint32(env, argv[2], &count) != napi_ok ||
      napi_typeof(env, argv[3], &destinations_type) != napi_ok)
    return throw_type(env, "send(handle, datagrams, count, destinations)");
  napi_value destinations = destinations_type == napi_object ? argv[3] : NULL;
  outgoing_t *out = &scratch_of(env)->outgoing;
  uint32_t taken = 0;
  while (taken < count) {
    int messages = fill_outgoing(env, out, argv[1], destinations, taken, count, !s->no_gso);
    if (messages < 0) return NULL;
    int sent = sendmmsg(s->fd, out->msgs, (unsigned)messages, MSG_DONTWAIT);
    if (sent < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) break;
      if (errno == EINTR) continue;
      if (out->datagrams[0] > 1 && (errno == EINVAL || errno == EIO || errno == EMSGSIZE ||
                                        errno == EOPNOTSUPP || errno == ENOPROTOOPT)) {
        s->no_gso = 1; /* refused as a GSO run: send these again one by one */
        continue;
      }
      sent = 1; /* this message is lost (say ECONNREFUSED, the server is gone); go on */
    }
    for (int m = 0; m < sent; m++) taken += out->datagrams[m];
  }
  napi_value result;
  CHECK(napi_create_uint32(env, taken, &result));
  return result;
}

/* address(host, port) → a Buffer holding the socket address, to pass as a send() destination. */
static napi_value Address(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) return throw_type(env, "address(host, port)");
  struct sockaddr_storage address;
  socklen_t length = parse_address(env, argv[0], argv[1], &address);
  if (length == 0) return NULL;
  napi_value result;
  CHECK(napi_create_buffer_copy(env, length, &address, NULL, &result));
  return result;
}

/* close(handle): stops receiving and closes the socket; later calls on the handle throw. */
static napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = NULL;
  if (napi_get_value_external(env, argv[0], (void **)&s) != napi_ok || s == NULL)
    return throw_type(env, "expected a socket handle");
  close_sock(s);
  if (!s->delivering) release_callback(s); /* else on_readable does it once the callback is over */
  return NULL;
}

/* setMeta(Uint32Array of at least BATCH * META words): where each batch's lengths and sources go. */
static napi_value SetMeta(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  scratch_t *scratch = scratch_of(env);
  bool is_typed = false;
  if (argc < 1 || napi_is_typedarray(env, argv[0], &is_typed) != napi_ok || !is_typed)
    return throw_type(env, "setMeta(Uint32Array)");
  if (scratch->meta != NULL) napi_delete_reference(env, scratch->meta);
  CHECK(napi_create_reference(env, argv[0], 1, &scratch->meta));
  return NULL;
}

NAPI_MODULE_INIT() {
  scratch_t *scratch = calloc(1, sizeof *scratch);
  if (scratch == NULL) return NULL;
  scratch->slab = malloc((size_t)BATCH * SLOT);
  if (scratch->slab == NULL) {
    free(scratch);
    return NULL;
  }
  for (int i = 0; i < BATCH; i++) {
    scratch->iov[i].iov_base = scratch->slab + (size_t)i * SLOT;
    scratch->iov[i].iov_len = SLOT;
    scratch->msgs[i].msg_hdr.msg_iov = &scratch->iov[i];
    scratch->msgs[i].msg_hdr.msg_iovlen = 1;
    scratch->msgs[i].msg_hdr.msg_name = &scratch->from[i];
  }
  napi_set_instance_data(env, scratch, free_scratch, NULL);
  napi_value value;
  napi_create_uint32(env, BATCH, &value);
  napi_set_named_property(env, exports, "batch", value);
  napi_create_uint32(env, META, &value);
  napi_set_named_property(env, exports, "metaWords", value);
  const struct {
    const char *name;
    napi_callback fn;
  } functions[] = {{"open", Open},       {"connect", Connect}, {"local", Local},
                   {"format", Format},   {"receive", Receive}, {"send", Send},
                   {"address", Address}, {"close", Close},     {"setMeta", SetMeta}};
  for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
    napi_create_function(env, functions[i].name, NAPI_AUTO_LENGTH, functions[i].fn, NULL, &value);
    napi_set_named_property(env, exports, functions[i].name, value);
  }
  return exports;
}
