# Decoupling, stage 1 (representation learning): instance-balanced sampling and softmax cross-entropy, ResNet-50 on
# ImageNet-LT, 90 epochs (the recipe of classifier-balancing's "Joint"), i.e. configs/baseline's model. Its last
# checkpoint is what the stage-2 configs load: tools/dist_train.sh THIS_CONFIG 8
_base_ = '../baseline/resnet50_8xb64_imagenet-lt_90e.py'
