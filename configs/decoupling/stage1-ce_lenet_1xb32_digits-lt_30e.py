# Decoupling, stage 1 on Digits-LT (CPU demo): LeNet-5 with softmax cross-entropy and instance-balanced sampling,
# i.e. configs/baseline's model. python tools/train.py THIS_CONFIG
_base_ = '../baseline/lenet_1xb32_digits-lt_30e.py'
