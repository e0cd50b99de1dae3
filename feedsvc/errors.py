"""One base exception, one subclass per kind of failure the caller can act on."""


class FeedsvcError(Exception):
    """Base of every error feedsvc raises on purpose."""


class ConfigError(FeedsvcError):
    """The config file is missing, unreadable or invalid; the message names key and line."""


class StateError(FeedsvcError):
    """The state store is unreadable, corrupt or from an unknown version."""


class MovedAsideError(StateError):
    """The state_dir path no longer names the directory a running refresher's store is in."""


class PublishError(FeedsvcError):
    """A version could not be written; the previous one stays current."""


class LockedError(FeedsvcError):
    """Another refresher already holds the state directory."""
