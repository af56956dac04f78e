# MiSLAS stage 1 on Digits-LT (CPU demo): LeNet-5 with input mixup (alpha 1.0, the official CIFAR-LT value) and
# softmax cross-entropy on the mixed labels, configs/baseline's Digits-LT schedule (SGD lr 0.05, batch 32, 30 epochs,
# cosine). python tools/data/make_demo_data.py digits_lt --out-dir data/digits_lt first;
# python tools/train.py THIS_CONFIG
_base_ = '../baseline/lenet_1xb32_digits-lt_30e.py'
model = dict(head=dict(loss=dict(use_soft=True)), train_cfg=dict(augments=dict(type='Mixup', alpha=1.0)))
