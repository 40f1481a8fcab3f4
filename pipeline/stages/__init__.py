"""One module per CLI command (train, backtest, crossval, retrain, promote, predict, features,
generate, suggest-points, compare, demo); each reads its inputs, calls features/ and models/, writes atomically."""
