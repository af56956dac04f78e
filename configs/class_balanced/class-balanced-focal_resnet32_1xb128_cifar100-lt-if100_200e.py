# Class-balanced sigmoid focal loss (Cui et al., CVPR 2019), beta 0.9999, gamma 1.0, the
# classifier bias initialised to -log(C - 1) = -log(99) and kept out of weight decay, as the official code.
# ResNet-32 on CIFAR-100-LT (imbalance factor 100), the LDAM-DRW 200-epoch recipe:
# ./class-balanced-softmax_resnet32_1xb128_cifar100-lt-if100_200e.py (the same weights on
# configs/baseline/resnet32_1xb128_cifar100-lt-if100_200e.py) with the focal loss type.
# One GPU x 128, as the official cifar_im_trainval_cb.sh: python tools/train.py THIS_CONFIG
_base_ = './class-balanced-softmax_resnet32_1xb128_cifar100-lt-if100_200e.py'
model = dict(head=dict(loss=dict(loss_type='focal', gamma=1.0),
                       init_cfg=dict(type='Normal', layer='Linear', std=0.01, bias=-4.59511985013459)))
optim_wrapper = dict(paramwise_cfg=dict(bias_decay_mult=0.0))
