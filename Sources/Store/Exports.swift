// The Store target is what the rest of hk imports: the seam (StoreCore), both backends and the
// factory that picks one from a LOCATION.
@_exported import PostgresStore
@_exported import StoreCore
