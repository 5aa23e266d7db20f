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
