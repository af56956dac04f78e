# Decoupling, stage 2, learnable weight scaling (LWS) on Digits-LT (CPU demo): the stage-1 LeNet-5 and classifier
# are loaded and frozen; one scale per class is learned for 5 epochs with class-aware sampling.
_base_ = './crt_lenet_1xb32_digits-lt_10e.py'
model = dict(head=dict(type='LWSClsHead'))
custom_hooks = [dict(type='DecoupledStageHook', frozen_modules=('backbone', 'neck'), bn_mode='train',
                     reinit_head=False)]
max_epochs = 5
param_scheduler = dict(T_max=max_epochs, end=max_epochs)
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
