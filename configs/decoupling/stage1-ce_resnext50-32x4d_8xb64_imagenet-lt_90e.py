# Decoupling, stage 1 (representation learning): instance-balanced sampling and softmax cross-entropy, ResNeXt-50
# (32x4d) on ImageNet-LT, 90 epochs (classifier-balancing's "Joint"), i.e. configs/baseline's model. Its last
# checkpoint is what the stage-2 configs load: tools/dist_train.sh THIS_CONFIG 8
_base_ = '../baseline/resnext50-32x4d_8xb64_imagenet-lt_90e.py'
