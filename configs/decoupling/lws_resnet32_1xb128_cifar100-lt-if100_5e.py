# Decoupling, stage 2, learnable weight scaling (LWS) on CIFAR-100-LT: the stage-1 ResNet-32 and its classifier
# (weight and bias) are loaded and frozen; one scale per class (initialised to 1) is learned for 5 epochs (as the
# official ImageNet-LT LWS) with class-aware sampling, SGD lr 0.1 (batch 128), cosine to 0.
_base_ = './crt_resnet32_1xb128_cifar100-lt-if100_10e.py'
model = dict(head=dict(type='LWSClsHead'))
custom_hooks = [dict(type='DecoupledStageHook', frozen_modules=('backbone', 'neck'), bn_mode='train',
                     reinit_head=False)]
max_epochs = 5
param_scheduler = dict(T_max=max_epochs, end=max_epochs)
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
