// Issue 8: one mistake in a declaration must show one error, not a cascade from code that
// uses the network's generated API (`init`, workspaces, `forward`, `train_step`, `Fit`).
use sinew::prelude::*;

network! {
    pub struct Mlp {
        input: 4,
        hidden: Dense(8) -> Rleu,
        out: Dense(3),
    }
}

fn main() {
    let mut rng = sinew::rng(0);
    let mut net = Mlp::<f32>::init(&mut rng);
    let boxed = Mlp::<f32>::boxed_init(&mut rng);
    let mut ws = MlpWorkspace::<2>::zeroed();
    let x = MlpInput::<2>::zeros();
    let out: &MlpOutput<2> = net.forward(&x, &mut ws);
    println!("{out} {} {} {}", Mlp::<f32>::PARAMETERS, Mlp::<f32>::SUMMARY, boxed == Box::new(net.clone()));
    let mut tw = MlpTrainWorkspace::<2>::boxed();
    let mut adam = Adam::<f32, Mlp>::new(AdamConfig::default());
    net.train_step(&x, &[0, 2], &SoftmaxCrossEntropy, &mut adam, &mut tw, &mut rng).unwrap();
    let data = Dataset::<f32, 4>::new(vec![[0.0; 4]], vec![1]).unwrap();
    Fit::<2>::default().run(&mut net, &mut adam, &SoftmaxCrossEntropy, &data, None, &mut rng).unwrap();
    sinew::io::save("never.safetensors", &net).unwrap();
}
