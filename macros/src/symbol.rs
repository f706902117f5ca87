//! Every name the macro recognises, and "did you mean" suggestions.

/// The input declaration.
pub const INPUT: &str = "input";

/// `name: Dense(out)` / `Dense(in => out)`.
pub const DENSE: &str = "Dense";
/// `name: Dropout(keep = p)`.
pub const DROPOUT: &str = "Dropout";
/// `name: Conv2d(out_channels, kernel = k, stride = s, padding = p)`.
pub const CONV2D: &str = "Conv2d";
/// `name: ConvTranspose2d(out_channels, kernel = k, stride = s, padding = p)`.
pub const CONV_TRANSPOSE2D: &str = "ConvTranspose2d";
/// `name: MaxPool2d(k)`.
pub const MAX_POOL2D: &str = "MaxPool2d";
/// `name: AvgPool2d(k)`.
pub const AVG_POOL2D: &str = "AvgPool2d";
/// `name: Flatten`.
pub const FLATTEN: &str = "Flatten";
/// `name: BatchNorm`.
pub const BATCH_NORM: &str = "BatchNorm";
/// `name: GlobalAvgPool`: the mean of each channel of an image.
pub const GLOBAL_AVG_POOL: &str = "GlobalAvgPool";
/// `name: Add(a, b, ...)`: the sum of values of one shape.
pub const ADD: &str = "Add";
/// `name: Concat(a, b, ...)`: images stacked along channels, or vectors along features.
pub const CONCAT: &str = "Concat";
/// `Embedding(E)` or `Embedding(V => E)`.
pub const EMBEDDING: &str = "Embedding";
/// `Rnn(h)`: tanh recurrent layer.
pub const RNN: &str = "Rnn";
/// `Gru(h)`.
pub const GRU: &str = "Gru";
/// `Lstm(h)`.
pub const LSTM: &str = "Lstm";
/// `steps = all | last`: a recurrent layer's output, a dense layer on a sequence.
pub const STEPS: &str = "steps";
/// `steps = all`.
pub const ALL: &str = "all";
/// `steps = last`.
pub const LAST: &str = "last";
/// `input: Sequence(T, F)`.
pub const SEQUENCE: &str = "Sequence";
/// `input: Tokens(T, vocab = V)`.
pub const TOKENS: &str = "Tokens";
/// `vocab = V`.
pub const VOCAB: &str = "vocab";

/// Every layer kind.
pub const LAYERS: &[&str] = &[
    DENSE,
    CONV2D,
    CONV_TRANSPOSE2D,
    MAX_POOL2D,
    AVG_POOL2D,
    GLOBAL_AVG_POOL,
    FLATTEN,
    BATCH_NORM,
    DROPOUT,
    ADD,
    CONCAT,
    EMBEDDING,
    RNN,
    GRU,
    LSTM,
];

/// `block Name(params) { layers }` before the network.
pub const BLOCK: &str = "block";
/// `from = name`: the value a one-input layer reads, when not the previous layer's.
pub const FROM: &str = "from";

/// Activations.
pub const IDENTITY: &str = "Identity";
/// Logistic sigmoid.
pub const SIGMOID: &str = "Sigmoid";
/// Hyperbolic tangent.
pub const TANH: &str = "Tanh";
/// Rectified linear unit.
pub const RELU: &str = "Relu";
/// Leaky ReLU, `LeakyRelu` or `LeakyRelu(0.2)` / `LeakyRelu(slope = 0.2)`.
pub const LEAKY_RELU: &str = "LeakyRelu";
/// Softmax over the features of each sample.
pub const SOFTMAX: &str = "Softmax";
/// Every activation.
pub const ACTIVATIONS: &[&str] = &[IDENTITY, SIGMOID, TANH, RELU, LEAKY_RELU, SOFTMAX];

/// Dropout's keep probability.
pub const KEEP: &str = "keep";
/// Leaky ReLU's negative slope.
pub const SLOPE: &str = "slope";
/// Convolution and pooling kernel size.
pub const KERNEL: &str = "kernel";
/// Convolution and pooling stride.
pub const STRIDE: &str = "stride";
/// Convolution and pooling zero padding.
pub const PADDING: &str = "padding";
/// `padding = same`.
pub const SAME: &str = "same";
/// Whether a dense or convolution layer has a bias (`bias = false` drops it).
pub const BIAS: &str = "bias";
/// Batch norm's `ε`.
pub const EPS: &str = "eps";
/// Batch norm's running-statistics momentum.
pub const MOMENTUM: &str = "momentum";

/// `#[weights("file.safetensors")]` on a network.
pub const WEIGHTS: &str = "weights";
/// `#[budget(flash = .., ram = .., batch = .., optimizer = ..)]` on a network.
pub const BUDGET: &str = "budget";
/// `#[frozen]` on a layer.
pub const FROZEN: &str = "frozen";
/// Budget: bytes of parameters (kept in flash).
pub const FLASH: &str = "flash";
/// Budget: bytes of RAM.
pub const RAM: &str = "ram";
/// Budget: the batch size the workspaces are counted for.
pub const BATCH: &str = "batch";
/// Budget: the optimizer whose state counts in `ram` when training.
pub const OPTIMIZER: &str = "optimizer";
/// Optimizers a budget can name.
pub const OPTIMIZERS: &[&str] = &["Sgd", "Momentum", "RmsProp", "Adam"];

/// The closest candidate to `word`, if it is close enough to be a likely typo.
pub fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let lower = word.to_lowercase();
    if let Some(exact) = candidates.iter().find(|c| c.to_lowercase() == lower) {
        return Some(exact);
    }
    candidates
        .iter()
        .map(|c| (distance(&lower, &c.to_lowercase()), *c))
        .filter(|&(d, c)| d <= (c.len() / 3).max(1))
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// `one of `a`, `b`, `c``, for messages.
pub fn one_of(candidates: &[&str]) -> String {
    match candidates {
        [only] => format!("`{only}`"),
        _ => {
            let quoted: Vec<String> = candidates.iter().map(|c| format!("`{c}`")).collect();
            format!("one of {}", quoted.join(", "))
        }
    }
}

/// The message for an unknown name, e.g. "unknown activation `Rleu` on layer `hidden`;
/// did you mean `Relu`? expected one of ...". `context` follows the name (may be empty).
pub fn unknown(what: &str, word: &str, context: &str, candidates: &[&str]) -> String {
    let hint = match suggest(word, candidates) {
        Some(s) => format!("; did you mean `{s}`?"),
        None => String::from(";"),
    };
    format!("unknown {what} `{word}`{context}{hint} expected {}", one_of(candidates))
}

/// Edit distance counting insertions, deletions, substitutions and swaps of adjacent
/// characters (optimal string alignment), so that `Rleu` is one edit from `Relu`.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(suggest("Dens", LAYERS), Some(DENSE));
        assert_eq!(suggest("relu", ACTIVATIONS), Some(RELU));
        assert_eq!(suggest("Rleu", ACTIVATIONS), Some(RELU));
        assert_eq!(suggest("Leaky", ACTIVATIONS), None);
        assert_eq!(suggest("kep", &[KEEP]), Some(KEEP));
        assert_eq!(suggest("Conv", LAYERS), Some(CONV2D));
        assert_eq!(suggest("Linear", LAYERS), None);
        assert_eq!(suggest("maxpool2d", LAYERS), Some(MAX_POOL2D));
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("rleu", "relu"), 1);
        assert_eq!(
            unknown("layer", "Dens", "", LAYERS),
            "unknown layer `Dens`; did you mean `Dense`? expected one of `Dense`, `Conv2d`, `ConvTranspose2d`, `MaxPool2d`, `AvgPool2d`, `GlobalAvgPool`, `Flatten`, `BatchNorm`, `Dropout`, `Add`, `Concat`, `Embedding`, `Rnn`, `Gru`, `Lstm`"
        );
        assert_eq!(suggest("GRU", LAYERS), Some(GRU));
    }
}
