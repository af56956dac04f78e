# CC-SAM stage 1 on Digits-LT (CPU demo): configs/baseline's Digits-LT recipe (LeNet-5, SGD lr 0.05, batch 32,
# 30 epochs, cosine) with the official CIFAR-100 CC-SAM settings: input mixup (alpha 1.0), CCSAMClsHead (noise_ratio
# 1e-6, flat_ratio 0.5), drop_last. python tools/data/make_demo_data.py digits_lt --out-dir data/digits_lt first;
# python tools/train.py THIS_CONFIG
_base_ = '../baseline/lenet_1xb32_digits-lt_30e.py'
model = dict(
    head=dict(type='CCSAMClsHead', class_stats={{_base_.class_stats}}, stage=1, noise_ratio=1e-6, flat_ratio=0.5,
              loss=dict(use_soft=True)),
    train_cfg=dict(augments=dict(type='Mixup', alpha=1.0)))
train_dataloader = dict(drop_last=True)
