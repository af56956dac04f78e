# Plain softmax cross-entropy, the CIFAR ResNet-32 on Digits-LT (grayscale input; CPU, a few minutes): the baseline
# the Digits-LT RIDE run (configs/ride/ride_resnet32_1xb32_digits-lt_30e.py) is compared with, as RIDE's experts
# live in the backbone. python tools/data/make_demo_data.py digits_lt --out-dir data/digits_lt first.
_base_ = './lenet_1xb32_digits-lt_30e.py'
model = dict(backbone=dict(_delete_=True, type='ResNet32CIFAR', in_channels=1),
             head=dict(in_channels=64))
