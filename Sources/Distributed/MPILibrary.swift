#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Open MPI, loaded at run time with `dlopen`: the one file of the package that touches libmpi.
///
/// Why at run time: `swift build` builds every target, so a `systemLibrary` target whose `mpi.h` is missing breaks the
/// build of the single-process `detector` on a machine without MPI. Loading `libmpi.so.40` (Open MPI 4.x; override with
/// `DETECTOR_LIBMPI`) only when `mpirun` launched the process keeps the package buildable and runnable without MPI.
///
/// Handles: Open MPI 4.1's `mpi.h` defines `MPI_COMM_WORLD`, `MPI_FLOAT`, `MPI_SUM`, … as the addresses of exported
/// globals (`OMPI_PREDEFINED_GLOBAL(MPI_Comm, ompi_mpi_comm_world)`, `ompi_mpi_float`, `ompi_mpi_op_sum`), and
/// `MPI_Comm`, `MPI_Datatype`, `MPI_Op`, `MPI_Errhandler` as pointers, so `dlsym` of the global's name *is* the
/// handle. `MPI_IN_PLACE` is `(void *) 1`.
final class MPILibrary {
    typealias Handle = UnsafeMutableRawPointer
    typealias InitFn = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Int32
    typealias VoidFn = @convention(c) () -> Int32
    typealias CommIntFn = @convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32
    typealias CommFn = @convention(c) (Handle) -> Int32
    typealias SetErrhandlerFn = @convention(c) (Handle, Handle) -> Int32
    typealias AllreduceFn = @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, Handle, Handle, Handle) -> Int32
    typealias IallreduceFn = @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, Handle, Handle, Handle,
                                             UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> Int32
    typealias TestFn = @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>, UnsafeMutablePointer<Int32>,
                                       UnsafeMutableRawPointer?) -> Int32
    typealias WaitFn = @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>, UnsafeMutableRawPointer?) -> Int32
    typealias GatherFn = @convention(c) (UnsafeRawPointer?, Int32, Handle, UnsafeMutableRawPointer?, Int32, Handle, Int32,
                                         Handle) -> Int32
    typealias GathervFn = @convention(c) (UnsafeRawPointer?, Int32, Handle, UnsafeMutableRawPointer?, UnsafePointer<Int32>?,
                                          UnsafePointer<Int32>?, Handle, Int32, Handle) -> Int32
    typealias BcastFn = @convention(c) (UnsafeMutableRawPointer?, Int32, Handle, Int32, Handle) -> Int32
    typealias AbortFn = @convention(c) (Handle, Int32) -> Int32
    typealias ErrorStringFn = @convention(c) (Int32, UnsafeMutablePointer<CChar>, UnsafeMutablePointer<Int32>) -> Int32
    typealias NameFn = @convention(c) (UnsafeMutablePointer<CChar>, UnsafeMutablePointer<Int32>) -> Int32

    let path: String
    let initialise: InitFn, finalize: VoidFn
    let commRank: CommIntFn, commSize: CommIntFn, barrier: CommFn
    let setErrhandler: SetErrhandlerFn
    let allreduce: AllreduceFn, bcast: BcastFn, abort: AbortFn
    /// Non-blocking allreduce and its completion (`MPI_Iallreduce`, `MPI_Test`, `MPI_Wait`; `MPI_Request` is a
    /// pointer in Open MPI, `MPI_STATUS_IGNORE` is null).
    let iallreduce: IallreduceFn, test: TestFn, wait: WaitFn
    /// `MPI_Gather`, `MPI_Gatherv`.
    let gather: GatherFn, gatherv: GathervFn
    let errorString: ErrorStringFn, processorName: NameFn
    /// `MPI_COMM_WORLD`, `MPI_FLOAT`, `MPI_DOUBLE`, `MPI_UINT64_T`, `MPI_INT`, `MPI_SUM`, `MPI_MIN`, `MPI_MAX`,
    /// `MPI_ERRORS_RETURN`.
    let commWorld: Handle, float: Handle, double: Handle, uint64: Handle, int32: Handle, sum: Handle, min: Handle,
        max: Handle, errorsReturn: Handle
    /// `MPI_IN_PLACE`.
    let inPlace = UnsafeRawPointer(bitPattern: 1)

    /// Opens libmpi (global symbols: Open MPI's components resolve libmpi's symbols when they load) and looks up
    /// every function and handle used; throws naming the library or the missing symbol.
    init() throws {
        var candidates = ["libmpi.so.40", "libmpi.so", "libmpi.40.dylib", "libmpi.dylib"]
        if let own = getenv("DETECTOR_LIBMPI").map({ String(cString: $0) }), !own.isEmpty { candidates.insert(own, at: 0) }
        var opened: (UnsafeMutableRawPointer, String)? = nil
        var reasons: [String] = []
        for name in candidates {
            if let h = dlopen(name, RTLD_NOW | RTLD_GLOBAL) { opened = (h, name); break }
            reasons.append(dlerror().map { String(cString: $0) } ?? name)
        }
        guard let (lib, path) = opened else { throw DistributedError.libraryMissing(reasons.joined(separator: "; ")) }
        self.path = path
        func symbol(_ name: String) throws -> UnsafeMutableRawPointer {
            guard let p = dlsym(lib, name) else { throw DistributedError.symbolMissing(library: path, symbol: name) }
            return p
        }
        func function<T>(_ name: String, _: T.Type) throws -> T { unsafeBitCast(try symbol(name), to: T.self) }
        initialise = try function("MPI_Init", InitFn.self)
        finalize = try function("MPI_Finalize", VoidFn.self)
        commRank = try function("MPI_Comm_rank", CommIntFn.self)
        commSize = try function("MPI_Comm_size", CommIntFn.self)
        barrier = try function("MPI_Barrier", CommFn.self)
        setErrhandler = try function("MPI_Comm_set_errhandler", SetErrhandlerFn.self)
        allreduce = try function("MPI_Allreduce", AllreduceFn.self)
        bcast = try function("MPI_Bcast", BcastFn.self)
        abort = try function("MPI_Abort", AbortFn.self)
        iallreduce = try function("MPI_Iallreduce", IallreduceFn.self)
        test = try function("MPI_Test", TestFn.self)
        wait = try function("MPI_Wait", WaitFn.self)
        gather = try function("MPI_Gather", GatherFn.self)
        gatherv = try function("MPI_Gatherv", GathervFn.self)
        errorString = try function("MPI_Error_string", ErrorStringFn.self)
        processorName = try function("MPI_Get_processor_name", NameFn.self)
        commWorld = try symbol("ompi_mpi_comm_world")
        float = try symbol("ompi_mpi_float")
        double = try symbol("ompi_mpi_double")
        uint64 = try symbol("ompi_mpi_uint64_t")
        int32 = try symbol("ompi_mpi_int")
        sum = try symbol("ompi_mpi_op_sum")
        min = try symbol("ompi_mpi_op_min")
        max = try symbol("ompi_mpi_op_max")
        errorsReturn = try symbol("ompi_mpi_errors_return")
    }

    /// Throws `DistributedError.call` with MPI's own message unless `code` is `MPI_SUCCESS` (0).
    func check(_ code: Int32, _ call: String) throws {
        guard code != 0 else { return }
        var buffer = [CChar](repeating: 0, count: 512)
        var length: Int32 = 0
        _ = errorString(code, &buffer, &length)
        throw DistributedError.call(name: call, code: Int(code), message: String(cString: buffer))
    }

    /// This host's name as MPI reports it.
    func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 512)
        var length: Int32 = 0
        guard processorName(&buffer, &length) == 0 else { return "?" }
        return String(cString: buffer)
    }
}
