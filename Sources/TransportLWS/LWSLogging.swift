import CLibWebSockets
import Logging

/// Which libwebsockets log levels reach swift-log (libwebsockets' `LLL_*` bits).
public struct LWSLogLevels: OptionSet, Sendable, Hashable {
    /// The `LLL_*` bits.
    public var rawValue: Int32
    /// The levels whose `LLL_*` bits are set in `rawValue`.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// Errors (`LLL_ERR`), logged at swift-log's `.error`.
    public static let error = LWSLogLevels(rawValue: LLL_ERR)
    /// Warnings (`LLL_WARN`), logged at `.warning`.
    public static let warning = LWSLogLevels(rawValue: LLL_WARN)
    /// Notices (`LLL_NOTICE`), logged at `.notice`.
    public static let notice = LWSLogLevels(rawValue: LLL_NOTICE)
    /// Information (`LLL_INFO`), logged at `.info`.
    public static let info = LWSLogLevels(rawValue: LLL_INFO)
    /// Debugging detail (`LLL_DEBUG`), logged at `.debug`.
    public static let debug = LWSLogLevels(rawValue: LLL_DEBUG)
    /// Client connection steps (`LLL_CLIENT`), logged at `.info`.
    public static let client = LWSLogLevels(rawValue: LLL_CLIENT)
    /// The default: errors and warnings only.
    public static let `default`: LWSLogLevels = [.error, .warning]
}

extension LWSLibrary {
    /// Chooses which libwebsockets log lines are routed to swift-log (label
    /// `"TransportLWS.libwebsockets"`). The setting is process-wide, like libwebsockets' own.
    public static func setLogLevels(_ levels: LWSLogLevels) {
        lws_set_log_level(levels.rawValue, lwsLogEmit)
    }

    /// Routes lws logging to swift-log at the default levels, once, before the first context.
    static let installDefaultLogging: Void = {
        lws_set_log_level(LWSLogLevels.default.rawValue, lwsLogEmit)
    }()
}

private let lwsLogger = Logger(label: "TransportLWS.libwebsockets")

/// lws' emit callback: called on whatever thread logs, with one formatted line.
private func lwsLogEmit(_ level: Int32, _ line: UnsafePointer<CChar>?) {
    guard let line else { return }
    let text = String(cString: line).trimmingTrailingNewlines()
    let swiftLevel: Logger.Level
    switch level {
    case LLL_ERR: swiftLevel = .error
    case LLL_WARN: swiftLevel = .warning
    case LLL_NOTICE: swiftLevel = .notice
    case LLL_INFO, LLL_CLIENT, LLL_USER: swiftLevel = .info
    default: swiftLevel = .debug
    }
    lwsLogger.log(level: swiftLevel, "\(text)")
}
