# The capOS schema: every kernel capability interface, the bootstrap records and the boot manifest.
#
# Method ids on the ring are the method ordinals below; a cap's interface id is the interface's
# 64-bit Cap'n Proto id (capnpc's TYPE_ID). Changing an ordinal or an id is an ABI break.
@0xa67219d17df4bc0d;

# Failure of a call at a valid cap. Sent instead of the method result, flagged by CQE_EXCEPTION.
struct CapException {
  type @0 :Type;
  reason @1 :Text;

  enum Type {
    failed @0;
    overloaded @1;
    disconnected @2;
    unimplemented @3;
    invalidArgument @4;
  }
}

# The serial console. One writeLine is one atomic line prefixed by the writer's process name.
interface Console {
  write @0 (data :Data) -> ();
  writeLine @1 (text :Text) -> ();
}

# A monotonic clock in nanoseconds since boot.
interface Timer {
  now @0 () -> (ns :UInt64);
  resolution @1 () -> (ns :UInt64);
  # region: alarm
  # A periodic upcall into the caller's own code (appendix A.1, "An alarm that interrupts the
  # process"): every `periodNs` (1 ms to 60 s), a tick that interrupts the caller in ring 3
  # pushes the interrupted RIP below the stack's red zone and resumes at `entry`, which must
  # preserve every register and return with `ret 128`. Period 0 turns it off.
  setAlarm @2 (periodNs :UInt64, entry :UInt64) -> ();
  # endregion: alarm
}

# Bytes from a hardware entropy source (never a seeded PRNG).
interface EntropySource {
  fill @0 (len :UInt32) -> (data :Data);
}

# The serialized SystemManifest the system booted with, read in bounded chunks.
interface BootPackage {
  manifestSize @0 () -> (size :UInt64);
  readManifest @1 (offset :UInt64, maxBytes :UInt32) -> (data :Data);
}

# One named capability handed to a child at spawn.
struct Grant {
  name @0 :Text;
  source :union {
    cap @1 :UInt32;    # COPY of one of the caller's cap ids
    blob @2 :Text;     # a binaries entry of the boot package, served as a Blob
    text @3 :Text;     # bounded inline text, served as a Blob
  }
}

# Starts processes from the boot package's ELF binaries. The ProcessHandle of the new process
# comes back as result-cap record 0 of the call.
# What a spawned process may hold (appendix A.9). 0 in a field means the default.
struct ProcessQuota {
  memoryBytes @0 :UInt64;  # 0: share the spawner's memory account; else reserve this much from it
  caps @1 :UInt32;         # 0: 1024 (the most a table holds); else at most this many caps
  kernelBytes @2 :UInt64;  # with memoryBytes: the kernel-heap share reserved with it (0: 256 KiB)
}

interface ProcessSpawner {
  spawn @0 (name :Text, binaryName :Text, grants :List(Grant), quota :ProcessQuota) -> ();
  # A fresh Endpoint: its owner facet comes back as result-cap record 0, a client facet as record 1.
  newEndpoint @1 () -> ();
}

# The two facets of an Endpoint. They have no methods of their own: a client CALLs its facet with
# any method ordinal and opaque params, which the owner RECVs and answers with RETURN (ring
# opcodes, see capos-abi). The ids are explicit because capos-abi (which the kernel uses and which
# cannot depend on this schema) fixes the same values; a capos-schema test keeps them equal.
interface Endpoint @0xe4d19a6b3c207f01 {}
interface EndpointOwner @0xe4d19a6b3c207f02 {
  # A new client facet of this endpoint whose calls reach the server with `badge` (not 0) in
  # their RECV completions; result-cap record 0. When its last copy is released the server
  # receives a release notice (method 0xffff, call id 0, that badge). Appendix A.7.
  mint @0 (badge :UInt64) -> ();
}

struct ExitStatus {
  union {
    exited @0 :Int32;
    faulted @1 :Text;  # fault kind, e.g. "page fault at 0x0"
    killed @2 :Text;   # ended by ProcessHandle.kill; the reason its killer gave
  }
}

# The parent's view of one child. wait returns at once when the child already ended.
interface ProcessHandle {
  wait @0 () -> (status :ExitStatus);
  # Ends the child now, releasing everything it held (caps, endpoints, memory); calls it had
  # received are disconnected and its waiters see `killed`. `killed` is false when it had ended.
  kill @1 (reason :Text) -> (killed :Bool);
}

# Read-only bytes: a binary or text from the manifest.
interface Blob {
  size @0 () -> (size :UInt64);
  read @1 (offset :UInt64, maxBytes :UInt32) -> (data :Data);
}

# region: manifest
# The boot manifest, produced by mkmanifest from CUE and carried as the PVH initrd module.
struct SystemManifest {
  schemaVersion @0 :UInt32;
  binaries @1 :List(Binary);
  initConfig @2 :InitConfig;
  kernelParams @3 :KernelParams;
  devices @4 :List(DeviceSpec);   # PCI functions the kernel may hand out (appendix A.6)
}

struct Binary {
  name @0 :Text;
  kind @1 :Kind;
  data @2 :Data;

  enum Kind {
    elf @0;
    blob @1;
  }
}

struct InitConfig {
  services @0 :List(Service);
}

struct Service {
  name @0 :Text;
  binary @1 :Text;
  grants @2 :List(ManifestGrant);
  # region: supervision
  # How init supervises the service (chapter A.5). Services start together unless ordered.
  after @3 :List(Text);          # start only once every named service has ended
  mustSucceed @4 :Bool = true;   # a failure counts in init's verdict (false: reported only)
  restart @5 :Restart;
  restartLimit @6 :UInt32;       # on-failure: restarts before init gives up (1..16)
  restartBackoffMs @7 :UInt32;   # on-failure: wait before the first restart, doubled each time
  deadlineMs @8 :UInt32;         # 0: none; else init kills the run after this many ms
  quota @9 :ProcessQuota;        # what init asks the kernel to give it (appendix A.9)

  enum Restart {
    never @0;
    onFailure @1;
  }
  # endregion: supervision
}

# A grant as written in the manifest: the source is a kernel cap by name, a binaries entry, text, a device,
# or one end of an endpoint init makes for an export.
struct ManifestGrant {
  name @0 :Text;
  source :union {
    kernel @1 :Text;   # "console", "timer", "entropy", "bootPackage", "spawner", "wallclock"
    blob @2 :Text;
    text @3 :Text;
    export @4 :Text;   # this service serves export <name>: the owner facet of its endpoint
    import @5 :Text;   # "<service>.<export>": a client facet of another service's export
    device @6 :Text;   # a DeviceManager that opens only this manifest device (appendix A.6)
  }
}

# Knobs for the kernel itself.
struct KernelParams {
  # Log every ring completion with a transport error (for debugging hostile input).
  traceErrors @0 :Bool;
}
# endregion: manifest

# --- Devices as capabilities (appendix A.6) ---

# One manifest `devices` entry: the first PCI function matching vendor (and device id when not 0)
# and class becomes device `name`, reachable only through DeviceManager.open(name).
struct DeviceSpec {
  name @0 :Text;
  vendor @1 :UInt16;
  device @2 :UInt16;      # 0 = any device id of that vendor
  class @3 :UInt8;        # PCI base class (0x01 mass storage, 0x02 network)
  interrupt @4 :Bool;     # whether the driver may wait on the device's interrupt
  dmaBytes @5 :UInt64;    # DMA memory the driver may hold at once
}

# The kernel's device table, granted as kernel cap "devices".
interface DeviceManager {
  open @0 (name :Text) -> ();   # result cap 0: the Device; one holder at a time
  # result cap 0: a DeviceManager that opens only device `name` (which this one must open)
  restrict @1 (name :Text) -> ();
}

struct Bar {
  index @0 :UInt8;
  kind @1 :Kind;
  phys @2 :UInt64;
  size @3 :UInt64;
  enum Kind {
    none @0;
    memory @1;
    io @2;
  }
}

# One PCI function, held by one driver process. Everything is released, and the function's
# decoding and bus mastering turned off, when that process ends.
interface Device {
  info @0 () -> (vendor :UInt16, device :UInt16, class :UInt8, bus :UInt8, slot :UInt8,
                 function :UInt8, irqLine :UInt8, hasInterrupt :Bool, bars :List(Bar), dmaLimit :UInt64);
  configRead @1 (offset :UInt8, width :UInt8) -> (value :UInt32);
  configWrite @2 (offset :UInt8, width :UInt8, value :UInt32) -> ();
  mapBar @3 (index :UInt8) -> (address :UInt64, size :UInt64, phys :UInt64);
  allocDma @4 (bytes :UInt64) -> (address :UInt64, phys :UInt64, size :UInt64);
  freeDma @5 (address :UInt64) -> ();
  waitInterrupt @6 () -> (count :UInt64);
}

# A block device served by a driver process over an Endpoint (method ids are these ordinals).
interface BlockDevice {
  info @0 () -> (sectors :UInt64, sectorSize :UInt32, maxSectors :UInt32);
  read @1 (sector :UInt64, count :UInt32) -> (data :Data);
  write @2 (sector :UInt64, data :Data) -> ();
  flush @3 () -> ();
  done @4 () -> ();   # this client is finished (a smoke's driver exits when all its clients are)
}
# region: wallclock
# Wall-clock time (ours, ahead of upstream, which has no wall clock yet): the CMOS real-time clock
# read once at boot plus the monotonic clock since, in nanoseconds since 1970-01-01 00:00 UTC.
interface WallClock {
  now @0 () -> (ns :UInt64);
}
# endregion: wallclock

# region: vmem
# A process's own address space (the first piece of issue #17: what wasmtime's custom platform
# maps and protects). Kernel cap `vmem`, granted only when the manifest names it. It acts on the
# caller's address space, whoever holds it, so handing it on gives no power over the giver.
# prot is a bit set: read 1, write 2, execute 4; only 1, 3 and 5 are accepted (W^X). Every bad
# argument is an invalidArgument exception with its reason; a commit past the caller's memory
# quota is overloaded.
interface VirtualMemory {
  reserve @0 (bytes :UInt64) -> (base :UInt64);
  commit @1 (addr :UInt64, bytes :UInt64, prot :UInt8) -> ();
  protect @2 (addr :UInt64, bytes :UInt64, prot :UInt8) -> ();
  release @3 (addr :UInt64, bytes :UInt64) -> ();
}
# endregion: vmem

# region: network
# The socket protocol of the network stack (chapter W.6). The stack exports one Endpoint per
# grant; that export facet (badge 0) is the grant's NetworkManager. Every socket it opens is a
# badged facet of the same Endpoint, minted by the stack and returned as result cap 0: a
# TcpListener, a TcpSocket or a UdpSocket. The badge names the socket, so a client reaches only
# the sockets whose caps it holds, and may pass one on like any cap; when the last copy of a
# socket's cap is released (or its holder dies) the stack closes the socket. Method ids are
# these ordinals, per interface. Every result carries `error`; `none` means success.
enum NetError {
  none @0;
  wouldBlock @1;   # a non-blocking call found nothing to do
  notGranted @2;   # the port or address is outside this endpoint's grant
  badSocket @3;    # the socket behind this cap is closed already (its grant said `done`)
  reset @4;        # the peer reset the connection
  closed @5;       # writing after the peer (or this side) closed
  refused @6;      # connecting: the peer refused or could not be reached
  inUse @7;        # the port is bound already
  noBuffers @8;    # the stack's socket quota for this endpoint is spent
  invalid @9;      # a malformed request (a bad shutdown direction)
}

# The grant's export facet. A socket comes back as result cap 0 when `error` is `none`.
interface NetworkManager {
  listen @0 (port :UInt16) -> (error :NetError);                  # cap: TcpListener
  connect @1 (addr :UInt32, port :UInt16) -> (error :NetError);   # cap: TcpSocket, once connected
  bindUdp @2 (port :UInt16) -> (error :NetError);                 # cap: UdpSocket
  done @3 () -> ();   # this client is finished: the stack closes what it opened (a smoke's stack exits when all its clients are)
}

interface TcpListener {
  accept @0 (nonblocking :Bool) -> (error :NetError, peerAddr :UInt32, peerPort :UInt16);   # cap: TcpSocket
  poll @1 () -> (error :NetError, readable :Bool, writable :Bool, hangup :Bool);
}

interface TcpSocket {
  recv @0 (maxBytes :UInt32, nonblocking :Bool) -> (error :NetError, data :Data);  # empty data: end of stream
  send @1 (data :Data, nonblocking :Bool) -> (error :NetError, sent :UInt32);
  shutdown @2 (how :UInt8) -> (error :NetError);   # how: 1 read, 2 write, 3 both
  poll @3 () -> (error :NetError, readable :Bool, writable :Bool, hangup :Bool);
}

interface UdpSocket {
  sendTo @0 (addr :UInt32, port :UInt16, data :Data) -> (error :NetError);
  recvFrom @1 (maxBytes :UInt32, nonblocking :Bool) -> (error :NetError, data :Data, addr :UInt32, port :UInt16);
  poll @2 () -> (error :NetError, readable :Bool, writable :Bool, hangup :Bool);
}
# endregion: network
# region: http
# The HTTP service (chapter W.6): HTTP/1.1 over the stack's sockets, served on one Endpoint per
# export. Fetch reaches any origin its grant lists; an HttpEndpoint reaches exactly one origin and
# nothing else (no other origin, no raw TCP). An origin is `http://A.B.C.D:PORT` (IP literals only:
# there is no DNS; no https). Every result carries `error`; `none` means success.
enum HttpError {
  none @0;
  notGranted @1;    # the origin is outside this capability's grant
  badUrl @2;        # not `http://A.B.C.D[:PORT]/path`, or (through an HttpEndpoint) not a path
  badMethod @3;     # a method other than GET, HEAD, POST, PUT, DELETE
  unreachable @4;   # the connection was refused or could not be made
  reset @5;         # the origin reset or closed the connection before a whole response
  badResponse @6;   # the origin's answer is not an HTTP/1.1 response this service reads
  tooLarge @7;      # the request or response body is over the 16 KiB a message carries
  netGone @8;       # the network stack is gone
  timeout @9;       # no whole response within the service's 10 s limit
}

interface Fetch {
  fetch @0 (method :Text, url :Text, body :Data) -> (error :HttpError, status :UInt16, body :Data);
  # An HttpEndpoint for one origin of this grant: result cap 0 when `error` is none.
  endpoint @1 (origin :Text) -> (error :HttpError);
  done @2 () -> ();   # this client is finished (a smoke's service exits when all its clients are)
}

interface HttpEndpoint {
  # `path` starts with `/`; an absolute URL is accepted only for this endpoint's own origin.
  request @0 (method :Text, path :Text, body :Data) -> (error :HttpError, status :UInt16, body :Data);
  origin @1 () -> (origin :Text);
  done @2 () -> ();
}
# endregion: http
# region: store
# --- The store (appendix A.7): served by the store process over one Endpoint; a Namespace or
# File is a client facet the store minted with its own badge. Expected outcomes are the
# `error` variants of each result union, never exceptions.
enum StoreError {
  notFound @0;
  exists @1;
  notDir @2;
  isDir @3;
  notEmpty @4;
  readOnly @5;
  noSpace @6;
  invalidName @7;
  corrupt @8;    # a block failed its checksum: it is never served
  tooMany @9;    # the store's table of open objects is full
}

enum NodeKind {
  file @0;
  dir @1;
}

struct NodeStat {
  kind @0 :NodeKind;
  size @1 :UInt64;   # bytes of a file; entries of a directory
}

struct DirEntry {
  name @0 :Text;
  stat @1 :NodeStat;
}

# `ok` of an open, an attenuate or a root: the cap is result-cap record 0.
struct StoreResult { union { ok @0 :Void; error @1 :StoreError; } }
struct StatResult { union { ok @0 :NodeStat; error @1 :StoreError; } }
struct ListResult { union { ok @0 :List(DirEntry); error @1 :StoreError; } }
struct DataResult { union { ok @0 :Data; error @1 :StoreError; } }
struct SizeResult { union { ok @0 :UInt64; error @1 :StoreError; } }

struct OpenMode {
  write @0 :Bool;       # the File may write (refused with readOnly through a read-only Namespace)
  create @1 :Bool;      # create the file when it is missing
  exclusive @2 :Bool;   # with create: refuse with exists when it is there
  truncate @3 :Bool;    # empty it (needs write)
}

# The volume.
interface Store {
  stats @0 () -> (capacity :UInt64, free :UInt64, files :UInt64, dirs :UInt64, generation :UInt64,
                  objects :UInt64);   # objects: Namespace and File caps alive (the store frees each on its release)
  sync @1 () -> (result :StoreResult);   # returns once the volume is on the disk
  root @2 () -> (result :StoreResult);   # the root Namespace
  done @3 () -> ();   # this client is finished (a smoke's store exits when all its clients are)
}

# A directory subtree. Paths are relative, `/`-separated; "" is the subtree's own root; `..`,
# `.`, absolute paths, empty components and NUL are invalidName and nothing resolves above it.
interface Namespace {
  open @0 (path :Text, mode :OpenMode) -> (result :StoreResult);
  mkdir @1 (path :Text) -> (result :StoreResult);
  list @2 (path :Text) -> (result :ListResult);
  stat @3 (path :Text) -> (result :StatResult);
  remove @4 (path :Text) -> (result :StoreResult);
  rename @5 (from :Text, to :Text) -> (result :StoreResult);
  attenuate @6 (path :Text, readOnly :Bool) -> (result :StoreResult);   # a narrower Namespace
}

# One open file. Reads and writes carry at most 16 KiB; a read past the end is short.
interface File {
  read @0 (offset :UInt64, len :UInt32) -> (result :DataResult);
  write @1 (offset :UInt64, data :Data) -> (result :SizeResult);
  size @2 () -> (result :SizeResult);
  truncate @3 (size :UInt64) -> (result :StoreResult);
  sync @4 () -> (result :StoreResult);
  stat @5 () -> (result :StatResult);
}
# endregion: store
