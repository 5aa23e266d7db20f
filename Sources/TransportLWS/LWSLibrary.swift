// TransportLWS: a Transport on libwebsockets (Debian libwebsockets-dev), for production use
// and wss://. One service thread owns the lws_context; all logic is Swift, the C shim
// (CLWSShim) only exposes what Swift cannot import.
import CLWSShim
import CLibWebSockets

/// Facts about the libwebsockets library this module is linked with.
public enum LWSLibrary {
    /// The library's version string, e.g. `"4.1.6-unknown"`.
    public static var version: String {
        guard let cString = lws_get_library_version() else { return "unknown" }
        return String(cString: cString)
    }

    /// `LWS_PRE`: the headroom libwebsockets needs before a payload given to `lws_write`.
    public static var writeHeadroom: Int { Int(lwsshim_pre()) }
}
