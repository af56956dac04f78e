# SBCL stage 2 on ImageNet-LT (JackHck/SBCL moco/linear_classify.py, README: --lr 10 --batch_size 2048 --train_rule CB
# --epochs 40 --schedule 20 30): the SBCL ResNet-50 (query encoder) loaded and frozen with its BatchNorm layers in
# train mode (the script calls model.train()), a new linear classifier (N(0, 0.01), bias 0), softmax cross-entropy,
# class-aware sampling (4 images per class visit; an epoch is N_train / 2048 iterations), SGD lr 10, momentum 0.9, no
# weight decay, batch 2048, 40 epochs, x0.1 from 0-based epochs 19 and 29 (adjust_learning_rate counts epoch + 1 >=
# --schedule 20 30): TSC's probe recipe, with RandomResizedCrop 224 + flip only.
# Train ./sbcl_resnet50_8xb32_imagenet-lt_200e.py first, then tools/dist_train.sh THIS_CONFIG 4
_base_ = '../tsc/tsc-linear_resnet50_4xb512_imagenet-lt_40e.py'
load_from = 'work_dirs/sbcl_resnet50_8xb32_imagenet-lt_200e/epoch_200.pth'
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]))
param_scheduler = dict(milestones=[19, 29])
